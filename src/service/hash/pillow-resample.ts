// Pillow's LANCZOS resize of an 8-bit greyscale image, reproduced bit for bit (libImaging/Resample.c, 8bpc path).
//
// Why a re-implementation: imagehash's dhash is defined by what Pillow computes, and every other resampler
// (libvips included) rounds differently, which flips hash bits on borderline pixels.

/** Pillow keeps 8 bits of pixel, 2 bits of headroom and 22 bits of fraction in a 32-bit accumulator. */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const LANCZOS_SUPPORT = 3;

export interface ResampleCoefficients {
  /** Taps per output pixel (the stride of `weights`). */
  kernelSize: number;
  /** For output pixel i: bounds[2i] = first input index, bounds[2i+1] = number of taps. */
  bounds: Int32Array;
  /** Fixed-point weights, `kernelSize` per output pixel, zero-padded. */
  weights: Int32Array;
}

function computeSinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

export function computeLanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? computeSinc(x) * computeSinc(x / 3) : 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the full-image box (in0 = 0, in1 = inSize). */
export function computeResampleCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * kernelSize);
  const taps = new Float64Array(kernelSize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; Math.trunc keeps that for the negative case before the clamp.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = computeLanczos((x + xmin - center + 0.5) / filterScale);
      taps[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? taps[x] / sum : taps[x];
      // Round half away from zero, then truncate, exactly as normalize_coeffs_8bpc does.
      weights[xx * kernelSize + x] = Math.trunc(
        w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS),
      );
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { kernelSize, bounds, weights };
}

function clip8(accumulator: number): number {
  const v = accumulator >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Horizontal pass over rows [firstRow, firstRow + rowCount) of a `width`-wide 8-bit image into
 * `out` (rowCount × outWidth). The hot loop of exact hashing: int32 multiply-adds only.
 */
export function resampleRowsHorizontal(
  src: Uint8Array,
  width: number,
  firstRow: number,
  rowCount: number,
  coefficients: ResampleCoefficients,
  out: Uint8Array,
): void {
  const { kernelSize, bounds, weights } = coefficients;
  const outWidth = bounds.length >> 1;
  for (let y = 0; y < rowCount; y++) {
    const rowStart = (firstRow + y) * width;
    const outRow = y * outWidth;
    for (let xx = 0; xx < outWidth; xx++) {
      const start = rowStart + bounds[xx * 2];
      const taps = bounds[xx * 2 + 1];
      const k = xx * kernelSize;
      let acc = HALF;
      for (let x = 0; x < taps; x++) acc = (acc + Math.imul(src[start + x], weights[k + x])) | 0;
      out[outRow + xx] = clip8(acc);
    }
  }
}

/** Vertical pass; `rowOffset` is subtracted from the coefficient bounds (the first row the horizontal pass kept). */
export function resampleColumnsVertical(
  src: Uint8Array,
  width: number,
  rowOffset: number,
  coefficients: ResampleCoefficients,
  out: Uint8Array,
): void {
  const { kernelSize, bounds, weights } = coefficients;
  const outHeight = bounds.length >> 1;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2] - rowOffset;
    const taps = bounds[yy * 2 + 1];
    const k = yy * kernelSize;
    for (let xx = 0; xx < width; xx++) {
      let acc = HALF;
      for (let y = 0; y < taps; y++) acc = (acc + Math.imul(src[(ymin + y) * width + xx], weights[k + y])) | 0;
      out[yy * width + xx] = clip8(acc);
    }
  }
}

/** `Image.resize((outWidth, outHeight), Image.LANCZOS)` on an 'L' image, as Pillow 9+ computes it. */
export function resizeGrayLanczos(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (src.length < width * height) throw new RangeError(`Expected ${width * height} pixels, got ${src.length}.`);
  // Pillow returns a copy when the size already matches: no filtering at all.
  if (width === outWidth && height === outHeight) return Uint8Array.from(src.subarray(0, width * height));
  const needsHorizontal = width !== outWidth;
  const needsVertical = height !== outHeight;
  const vertical = computeResampleCoefficients(height, outHeight);
  let image = src;
  let imageWidth = width;
  let rowOffset = 0;
  if (needsHorizontal) {
    // Only the rows the vertical pass reads: from the first tap of the first output row to the last of the last.
    const firstRow = vertical.bounds[0];
    const lastRow = vertical.bounds[outHeight * 2 - 2] + vertical.bounds[outHeight * 2 - 1];
    const rowCount = needsVertical ? lastRow - firstRow : height;
    const start = needsVertical ? firstRow : 0;
    const temp = new Uint8Array(rowCount * outWidth);
    resampleRowsHorizontal(src, width, start, rowCount, computeResampleCoefficients(width, outWidth), temp);
    image = temp;
    imageWidth = outWidth;
    rowOffset = start;
  }
  if (!needsVertical) return image;
  const out = new Uint8Array(outWidth * outHeight);
  resampleColumnsVertical(image, imageWidth, rowOffset, vertical, out);
  return out;
}
