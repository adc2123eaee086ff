// Decoded pixels → Pillow's 9×8 'L' LANCZOS thumbnail, with the heavy horizontal pass in WebAssembly when available.
import { convertToLuma, writeLumaRows } from './luma.js';
import { computeResampleCoefficients, resampleColumnsVertical, resizeGrayLanczos } from './pillow-resample.js';
import { getWasmHorizontalPass, releaseWasmMemoryAbove } from './wasm-horizontal-pass.js';

const PAGE_BYTES = 65536;
/** The kernel reads whole groups of 8 pixels; the last group may run past the image by up to 7 bytes. */
const READ_SLACK_BYTES = 16;
/** Keep up to this much kernel memory between calls (a 4000×4000 image's rows); more is released after use. */
const RETAINED_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * Same result as `resizeGrayLanczos(convertToLuma(pixels), …)`; `useWasm: false` forces the pure-JS reference path.
 */
export function createExactThumbnail(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  options: { useWasm?: boolean } = {},
): Uint8Array {
  const kernel = options.useWasm === false ? null : getWasmHorizontalPass();
  if (kernel === null || width === outWidth) {
    return resizeGrayLanczos(convertToLuma(pixels, width * height, channels), width, height, outWidth, outHeight);
  }
  if (pixels.length < width * height * channels)
    throw new RangeError(`Expected ${width * height * channels} bytes of pixels, got ${pixels.length}.`);
  const needsVertical = height !== outHeight;
  const vertical = computeResampleCoefficients(height, outHeight);
  const horizontal = computeResampleCoefficients(width, outWidth);
  // Only the rows the vertical pass reads, as Pillow does.
  const firstRow = needsVertical ? vertical.bounds[0] : 0;
  const rowCount = needsVertical
    ? vertical.bounds[outHeight * 2 - 2] + vertical.bounds[outHeight * 2 - 1] - firstRow
    : height;

  // Memory layout:
  // weights (padded to groups of 8 taps, zero-filled) | bounds (start, padded taps) | output | grey rows.
  const paddedKernel = Math.ceil(horizontal.kernelSize / 8) * 8;
  const weightsAt = 0;
  const boundsAt = weightsAt + outWidth * paddedKernel * 4;
  const outAt = boundsAt + outWidth * 8;
  const grayAt = outAt + rowCount * outWidth;
  const neededBytes = grayAt + rowCount * width + READ_SLACK_BYTES;
  const { memory } = kernel;
  if (memory.buffer.byteLength < neededBytes)
    memory.grow(Math.ceil((neededBytes - memory.buffer.byteLength) / PAGE_BYTES));

  const weights = new Int32Array(memory.buffer, weightsAt, outWidth * paddedKernel);
  weights.fill(0);
  const bounds = new Int32Array(memory.buffer, boundsAt, outWidth * 2);
  for (let xx = 0; xx < outWidth; xx++) {
    const taps = horizontal.bounds[xx * 2 + 1];
    weights.set(
      horizontal.weights.subarray(xx * horizontal.kernelSize, xx * horizontal.kernelSize + taps),
      xx * paddedKernel,
    );
    bounds[xx * 2] = horizontal.bounds[xx * 2];
    bounds[xx * 2 + 1] = Math.ceil(taps / 8) * 8;
  }
  const gray = new Uint8Array(memory.buffer, grayAt, rowCount * width + READ_SLACK_BYTES);
  gray.fill(0, rowCount * width);
  writeLumaRows(pixels, width, channels, firstRow, rowCount, gray);
  kernel.run(grayAt, width, rowCount, boundsAt, weightsAt, paddedKernel, outWidth, outAt);
  const temp = new Uint8Array(memory.buffer, outAt, rowCount * outWidth).slice();
  releaseWasmMemoryAbove(RETAINED_MEMORY_BYTES);
  if (!needsVertical) return temp;
  const out = new Uint8Array(outWidth * outHeight);
  resampleColumnsVertical(temp, outWidth, firstRow, vertical, out);
  return out;
}
