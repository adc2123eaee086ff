// The native path: JPEG (libjpeg-turbo) and PNG (own inflater, libdeflate or zlib + own unfilter)
// decoded row by row into Pillow's 9×8 LANCZOS thumbnail.
import { assertPixelLimit } from './decode-image.js';
import { DHASH_HEIGHT, DHASH_WIDTH } from './dhash-bits.js';
import {
  getNativeDecoder,
  PNG_INFLATERS,
  type DecoderName,
  type NativeDecoder,
  type PngInflater,
} from './native-addon.js';
import { computeResampleCoefficients, resampleColumnsVertical, type ResampleCoefficients } from './pillow-resample.js';
import { readPngLayout } from './png-layout.js';
import type { SniffedFormat } from './sniff-format.js';

export interface NativeThumbnail {
  thumbnail: Uint8Array;
  /** The image's own size (not the scaled decode size of fast mode). */
  width: number;
  height: number;
  decoder: DecoderName;
}

/**
 * Fast mode's floor on decoded pixels per thumbnail pixel: below it the 1/n DCT-scaled decode loses too much detail.
 */
const FAST_MIN_PIXELS_PER_CELL = 8;
/** Pillow's 1-channel JPEG opens as L, 3-channel as RGB; CMYK and YCCK (4) keep going through sharp. */
const NATIVE_JPEG_COMPONENTS = new Set([1, 3]);

/** Coefficients by input size; uploads repeat a few sizes, and each set costs thousands of sin() calls. */
const coefficientCache = new Map<string, ResampleCoefficients>();
const COEFFICIENT_CACHE_SIZE = 64;

type DecodeRows = (horizontal: ResampleCoefficients, firstRow: number, rowCount: number) => Promise<Uint8Array>;

/**
 * The thumbnail through the addon, or undefined when the addon is missing, the file is not one it takes, or it
 * fails to decode it (the caller then asks sharp, which gives the answer it always gave, errors included).
 * Throws ETOOMANYPIXELS from the header, before any pixel memory is allocated.
 */
export async function createNativeThumbnail(
  bytes: Uint8Array,
  format: SniffedFormat,
  mode: 'exact' | 'fast',
  maxPixels: number,
  options: { pngInflater?: PngInflater } = {},
): Promise<NativeThumbnail | undefined> {
  const decoder = getNativeDecoder();
  if (decoder === null) return undefined;
  if (format === 'jpeg') return createJpegThumbnail(decoder, bytes, mode, maxPixels);
  if (format === 'png') return createPngThumbnail(decoder, bytes, mode, maxPixels, options.pngInflater ?? 'auto');
  return undefined;
}

async function createJpegThumbnail(
  decoder: NativeDecoder,
  bytes: Uint8Array,
  mode: 'exact' | 'fast',
  maxPixels: number,
) {
  let info: number[];
  try {
    info = decoder.readJpegInfo(bytes, 1);
  } catch {
    return undefined;
  }
  const [width, height, components] = info;
  if (!NATIVE_JPEG_COMPONENTS.has(components) || width <= 0 || height <= 0) return undefined;
  assertPixelLimit(width, height, maxPixels);
  const scaleDenom = mode === 'fast' ? chooseJpegScaleDenom(width, height) : 1;
  // libjpeg's output size at scale 1/n is jdiv_round_up(size, n).
  const decodeWidth = Math.ceil(width / scaleDenom);
  const decodeHeight = Math.ceil(height / scaleDenom);
  const thumbnail = await resampleDecodedRows(decodeWidth, decodeHeight, (horizontal, firstRow, rowCount) =>
    decoder.decodeJpegRows(
      bytes,
      scaleDenom,
      mode === 'fast',
      horizontal.bounds,
      horizontal.weights,
      horizontal.kernelSize,
      DHASH_WIDTH,
      firstRow,
      rowCount,
    ),
  );
  return thumbnail === undefined ? undefined : { thumbnail, width, height, decoder: 'libjpeg-turbo' as const };
}

/**
 * The strongest DCT scaling (1/8, 1/4, 1/2) that still leaves at least 8 decoded pixels per thumbnail pixel each way.
 */
export function chooseJpegScaleDenom(width: number, height: number): number {
  for (const denom of [8, 4, 2]) {
    if (hasPixelsPerCell(width / denom, height / denom)) return denom;
  }
  return 1;
}

/** Whether a decode of this size still has FAST_MIN_PIXELS_PER_CELL pixels per thumbnail pixel each way. */
function hasPixelsPerCell(width: number, height: number): boolean {
  return width >= DHASH_WIDTH * FAST_MIN_PIXELS_PER_CELL && height >= DHASH_HEIGHT * FAST_MIN_PIXELS_PER_CELL;
}

/**
 * PNG must be inflated whole in either mode, and that is most of the cost; fast mode saves the rest by converting and
 * resampling only every 2nd row and column (not for Adam7, whose passes interleave) when enough pixels remain.
 */
async function createPngThumbnail(
  decoder: NativeDecoder,
  bytes: Uint8Array,
  mode: 'exact' | 'fast',
  maxPixels: number,
  inflater: PngInflater,
) {
  const layout = readPngLayout(bytes);
  if (layout === undefined) return undefined;
  assertPixelLimit(layout.width, layout.height, maxPixels);
  const step = mode === 'fast' && !layout.isInterlaced && hasPixelsPerCell(layout.width / 2, layout.height / 2) ? 2 : 1;
  const thumbnail = await resampleDecodedRows(
    Math.ceil(layout.width / step),
    Math.ceil(layout.height / step),
    (horizontal, firstRow, rowCount) =>
      decoder.decodePngRows(
        bytes,
        layout.segments,
        layout.width,
        layout.height,
        layout.bitDepth,
        layout.colorType,
        layout.isInterlaced,
        layout.paletteLuma,
        horizontal.bounds,
        horizontal.weights,
        horizontal.kernelSize,
        DHASH_WIDTH,
        firstRow,
        rowCount,
        PNG_INFLATERS.indexOf(inflater),
        step,
      ),
  );
  return thumbnail === undefined
    ? undefined
    : { thumbnail, width: layout.width, height: layout.height, decoder: 'native-png' as const };
}

/**
 * Pillow's two-pass resize (ImagingResampleInner) around a decoder that applies the horizontal pass to each row as it
 * decodes: only rows the vertical pass reads are kept. Undefined when the decoder rejects.
 */
async function resampleDecodedRows(
  width: number,
  height: number,
  decodeRows: DecodeRows,
): Promise<Uint8Array | undefined> {
  const vertical = getResampleCoefficients(height, DHASH_HEIGHT);
  const needsVertical = height !== DHASH_HEIGHT;
  // Width already 9: Pillow skips the horizontal pass; a single tap of weight 1.0 copies each pixel exactly.
  const horizontal =
    width === DHASH_WIDTH ? createIdentityCoefficients(width) : getResampleCoefficients(width, DHASH_WIDTH);
  const firstRow = needsVertical ? vertical.bounds[0] : 0;
  const rowCount = needsVertical
    ? vertical.bounds[DHASH_HEIGHT * 2 - 2] + vertical.bounds[DHASH_HEIGHT * 2 - 1] - firstRow
    : height;
  let rows: Uint8Array;
  try {
    rows = await decodeRows(horizontal, firstRow, rowCount);
  } catch {
    return undefined;
  }
  if (!needsVertical) return rows;
  const out = new Uint8Array(DHASH_WIDTH * DHASH_HEIGHT);
  resampleColumnsVertical(rows, DHASH_WIDTH, firstRow, vertical, out);
  return out;
}

/** computeResampleCoefficients through a small least-recently-used cache (the arrays are never mutated). */
function getResampleCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  const key = `${inSize}>${outSize}`;
  const cached = coefficientCache.get(key);
  if (cached !== undefined) {
    coefficientCache.delete(key);
    coefficientCache.set(key, cached);
    return cached;
  }
  const computed = computeResampleCoefficients(inSize, outSize);
  coefficientCache.set(key, computed);
  if (coefficientCache.size > COEFFICIENT_CACHE_SIZE)
    coefficientCache.delete(coefficientCache.keys().next().value as string);
  return computed;
}

function createIdentityCoefficients(width: number): ResampleCoefficients {
  const bounds = new Int32Array(width * 2);
  for (let x = 0; x < width; x++) bounds.set([x, 1], x * 2);
  return { kernelSize: 1, bounds, weights: new Int32Array(width).fill(1 << 22) };
}
