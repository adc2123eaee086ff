// Fast mode: let libvips shrink on load and resize in RGB to 9×8, then Rec.601 luma — within a few bits of exact.
import sharp from 'sharp';
import { createDecodeError, type ImageHeader } from './decode-image.js';
import { computeDhashHex, DHASH_HEIGHT, DHASH_WIDTH } from './dhash-bits.js';
import { convertToLuma } from './luma.js';

export async function computeFastDhash(bytes: Uint8Array, header: ImageHeader, maxPixels: number): Promise<string> {
  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: maxPixels,
      failOn: 'error',
      ignoreIcc: true,
      autoOrient: false,
    })
      // Alpha is dropped before resizing: exact mode ignores it, and a premultiplied resize would darken edges.
      .removeAlpha()
      .resize(DHASH_WIDTH, DHASH_HEIGHT, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: true })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return computeDhashHex(convertToLuma(pixels, DHASH_WIDTH * DHASH_HEIGHT, info.channels));
  } catch (error) {
    throw createDecodeError(error, header.format);
  }
}
