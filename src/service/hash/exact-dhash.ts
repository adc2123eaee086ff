// Exact mode: full decode, Pillow's convert("L"), Pillow's LANCZOS to 9×8,
// then the dhash bits — equal to imagehash.dhash.
import { decodeFullPixels, type ImageHeader } from './decode-image.js';
import { computeDhashHex, DHASH_HEIGHT, DHASH_WIDTH } from './dhash-bits.js';
import { createExactThumbnail } from './exact-thumbnail.js';

/** dhash of already-decoded interleaved 8-bit pixels (1–4 channels); pure, used by tests and the benchmark. */
export function computeExactDhashFromPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): string {
  return computeDhashHex(createExactThumbnail(pixels, width, height, channels, DHASH_WIDTH, DHASH_HEIGHT));
}

export async function computeExactDhash(bytes: Uint8Array, header: ImageHeader, maxPixels: number): Promise<string> {
  const decoded = await decodeFullPixels(bytes, header, maxPixels);
  return computeExactDhashFromPixels(decoded.data, decoded.width, decoded.height, decoded.channels);
}
