// The hashing service's public face: image bytes in, imagehash-compatible 64-bit dhash out (exact or fast mode).
import { DEFAULT_MAX_PIXELS, readImageHeader } from './decode-image.js';
import { computeDhashHex } from './dhash-bits.js';
import { computeExactDhash } from './exact-dhash.js';
import { computeFastDhash } from './fast-dhash.js';
import type { DecoderName, PngInflater } from './native-addon.js';
import { createNativeThumbnail } from './native-thumbnail.js';
import { sniffImageFormat } from './sniff-format.js';

export { DEFAULT_MAX_PIXELS } from './decode-image.js';
export { ImageInputError, isImageInputError, type ImageInputErrorCode } from './image-input-error.js';
export { hammingDistance, hammingDistanceBigInt, isHashString, parseHashBigInt, formatHashBigInt } from './hamming.js';
export { getHashCapability, type HashCapability, type DecoderName } from './native-addon.js';
export { sniffImageFormat, isHashableFormat, HASHABLE_FORMATS, type SniffedFormat } from './sniff-format.js';

export type HashMode = 'exact' | 'fast';
export const HASH_MODES: readonly HashMode[] = ['exact', 'fast'];

export interface ImageHash {
  /** 16 lowercase hex digits, imagehash's dhash format. */
  hash: string;
  width: number;
  height: number;
  /** The sniffed container format: jpeg, png, gif, webp or tiff. */
  format: string;
}

export interface HashImageOptions {
  /** 'exact' (default) equals Pillow + imagehash bit for bit; 'fast' is within a few bits and several times quicker. */
  mode?: HashMode;
  /** Refuse images with more pixels than this (default Pillow's MAX_IMAGE_PIXELS, 89,478,485). */
  maxPixels?: number;
}

export interface HashImageDetailedOptions extends HashImageOptions {
  /**
   * 'auto' (default) uses the native decoders where they apply; 'sharp' forces the sharp path. For benchmarks and
   * tests, 'sharp' and the PNG inflater choices: auto with PNG always inflated by streaming zlib, libdeflate, or our
   * own inflater (see PngInflater).
   */
  decoder?: 'auto' | 'sharp' | `${Exclude<PngInflater, 'auto'>}-inflate`;
}

/** An ImageHash plus the decoder that produced its pixels, so a silent fallback to sharp can be seen. */
export interface DetailedImageHash extends ImageHash {
  decoder: DecoderName;
}

/** The inflater a `decoder` option names ('zlib-inflate' → 'zlib'); 'auto' for the others. */
function getPngInflater(decoder: HashImageDetailedOptions['decoder']): PngInflater {
  return decoder?.endsWith('-inflate') ? (decoder.slice(0, -'-inflate'.length) as PngInflater) : 'auto';
}

export function isHashMode(value: unknown): value is HashMode {
  return typeof value === 'string' && (HASH_MODES as readonly string[]).includes(value);
}

/**
 * Hashes one image. Throws ImageInputError (never anything else for bad bytes) when the input is empty,
 * not an image, of an unsupported format, over the pixel limit (checked from the header, before decoding),
 * truncated or undecodable. Throws a TypeError for an invalid option.
 */
export async function hashImage(bytes: Uint8Array, options: HashImageOptions = {}): Promise<ImageHash> {
  const { hash, width, height, format } = await hashImageDetailed(bytes, options);
  return { hash, width, height, format };
}

/**
 * hashImage, also naming the decoder used. JPEG and PNG try the native addon first; anything it declines goes to sharp.
 */
export async function hashImageDetailed(
  bytes: Uint8Array,
  options: HashImageDetailedOptions = {},
): Promise<DetailedImageHash> {
  const mode = options.mode ?? 'exact';
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!isHashMode(mode))
    throw new TypeError(`Expected the \`mode\` option to be exact or fast, got \`${String(mode)}\`.`);
  if (!Number.isInteger(maxPixels) || maxPixels <= 0) {
    throw new TypeError(`Expected the \`maxPixels\` option to be a positive integer, got \`${String(maxPixels)}\`.`);
  }
  const sniffed = bytes.length > 0 ? sniffImageFormat(bytes) : undefined;
  if (options.decoder !== 'sharp' && (sniffed === 'jpeg' || sniffed === 'png')) {
    const native = await createNativeThumbnail(bytes, sniffed, mode, maxPixels, {
      pngInflater: getPngInflater(options.decoder),
    });
    if (native !== undefined) {
      return {
        hash: computeDhashHex(native.thumbnail),
        width: native.width,
        height: native.height,
        format: sniffed,
        decoder: native.decoder,
      };
    }
  }
  const header = await readImageHeader(bytes, maxPixels);
  const hash =
    mode === 'exact'
      ? await computeExactDhash(bytes, header, maxPixels)
      : await computeFastDhash(bytes, header, maxPixels);
  return { hash, width: header.width, height: header.height, format: header.format, decoder: 'sharp' };
}
