// Pillow's convert("L") on decoded 8-bit pixels: Rec.601 luma in 16-bit fixed point, alpha ignored.

/** L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16 — Pillow's L24 macro (Convert.c), weights 0.299/0.587/0.114. */
export function computeLuma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * Interleaved pixels with 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) channels → one luma byte per pixel.
 * L passes through untouched (returned as-is, not copied); LA keeps L; RGB(A) uses L24.
 */
export function convertToLuma(pixels: Uint8Array, pixelCount: number, channels: number): Uint8Array {
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new RangeError(`Expected 1 to 4 channels, got ${channels}.`);
  }
  if (pixels.length < pixelCount * channels) {
    throw new RangeError(`Expected ${pixelCount * channels} bytes of pixels, got ${pixels.length}.`);
  }
  if (channels === 1) return pixels.subarray(0, pixelCount);
  const out = new Uint8Array(pixelCount);
  if (channels === 2) {
    for (let i = 0, j = 0; i < pixelCount; i++, j += 2) out[i] = pixels[j];
    return out;
  }
  for (let i = 0, j = 0; i < pixelCount; i++, j += channels) {
    out[i] = (pixels[j] * 19595 + pixels[j + 1] * 38470 + pixels[j + 2] * 7471 + 0x8000) >> 16;
  }
  return out;
}

/**
 * convertToLuma for rows [firstRow, firstRow + rowCount) of an image, written into `target` (e.g. WebAssembly memory).
 */
export function writeLumaRows(
  pixels: Uint8Array,
  width: number,
  channels: number,
  firstRow: number,
  rowCount: number,
  target: Uint8Array,
): void {
  const start = firstRow * width;
  const count = rowCount * width;
  if (channels === 1) {
    target.set(pixels.subarray(start, start + count));
    return;
  }
  if (channels === 2) {
    for (let i = 0, j = start * 2; i < count; i++, j += 2) target[i] = pixels[j];
    return;
  }
  for (let i = 0, j = start * channels; i < count; i++, j += channels) {
    target[i] = (pixels[j] * 19595 + pixels[j + 1] * 38470 + pixels[j + 2] * 7471 + 0x8000) >> 16;
  }
}
