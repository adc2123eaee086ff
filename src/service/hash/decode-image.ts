// Validates image bytes and decodes them with sharp to the raw 8-bit pixels Pillow would see (no rotation, no ICC).
import sharp, { type Metadata } from 'sharp';
import { ImageInputError } from './image-input-error.js';
import { isHashableFormat, sniffImageFormat, type SniffedFormat } from './sniff-format.js';

/** Pillow's Image.MAX_IMAGE_PIXELS: above it Pillow warns of a decompression bomb; we refuse outright. */
export const DEFAULT_MAX_PIXELS = 89_478_485;

export interface ImageHeader {
  format: SniffedFormat;
  width: number;
  height: number;
  /** 'uchar' for 8-bit samples, 'ushort' for 16-bit. */
  depth: string;
  channels: number;
  /** libvips' interpretation: 'srgb', 'b-w', 'cmyk', … */
  space: string;
}

export interface DecodedPixels {
  /** Interleaved 8-bit samples, `channels` per pixel, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

// Every input is a one-off upload: libvips' operation cache would only hold on to memory, never hit.
sharp.cache(false);

/** Reads only the header: rejects empty, unknown, unsupported and oversized inputs before any pixel is allocated. */
export async function readImageHeader(bytes: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageHeader> {
  if (bytes.length === 0) throw new ImageInputError('EEMPTYBODY', 'The image is empty (0 bytes).');
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new ImageInputError(
      'EBADIMAGE',
      'The data is not an image: no JPEG, PNG, GIF, WebP or TIFF signature found.',
    );
  }
  if (!isHashableFormat(format)) {
    throw new ImageInputError(
      'EUNSUPPORTEDFORMAT',
      `The image format ${format} is not supported; send JPEG, PNG, GIF, WebP or TIFF.`,
    );
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (error) {
    throw new ImageInputError(
      'EBADIMAGE',
      `The ${format} image header cannot be read: ${describeSharpError(error)}.`,
      error,
    );
  }
  const width = metadata.width ?? 0;
  // Multi-page GIF/TIFF: only the first page is hashed (as Pillow does), so only its pixels count.
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width <= 0 || height <= 0)
    throw new ImageInputError('EBADIMAGE', `The ${format} image has no pixels (${width}x${height}).`);
  assertPixelLimit(width, height, maxPixels);
  return {
    format,
    width,
    height,
    depth: metadata.depth ?? 'uchar',
    channels: metadata.channels ?? 0,
    space: metadata.space ?? 'srgb',
  };
}

/**
 * Refuses an image whose header promises more than `maxPixels` pixels (ETOOMANYPIXELS), before any pixel is allocated.
 */
export function assertPixelLimit(width: number, height: number, maxPixels: number): void {
  if (width * height <= maxPixels) return;
  throw new ImageInputError(
    'ETOOMANYPIXELS',
    `The image is ${width}x${height} = ${width * height} pixels, ` +
      `over the limit of ${maxPixels} (possible decompression bomb).`,
  );
}

/** Full decode of the first page to 8-bit samples, with the values Pillow's decoders produce. */
export async function decodeFullPixels(
  bytes: Uint8Array,
  header: ImageHeader,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<DecodedPixels> {
  try {
    // ignoreIcc: Pillow never colour-manages on open; autoOrient stays off: Pillow does not apply EXIF rotation.
    const image = sharp(bytes, {
      limitInputPixels: maxPixels,
      failOn: 'error',
      ignoreIcc: true,
      sequentialRead: true,
      autoOrient: false,
    });
    // 16-bit inputs stay 16-bit (sharp would otherwise rescale them its own way); Pillow's reduction is applied below.
    const isSixteenBit = header.depth === 'ushort';
    if (isSixteenBit) image.toColourspace(header.channels <= 2 ? 'grey16' : 'rgb16');
    // CMYK stays CMYK (sharp would apply its own CMYK profile); Pillow's plain arithmetic conversion follows.
    const isCmyk = header.space === 'cmyk' && !isSixteenBit;
    if (isCmyk) image.pipelineColourspace('cmyk').toColourspace('cmyk');
    const { data, info } = await image
      .raw({ depth: isSixteenBit ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const sampleBytes = pixels.length / (info.width * info.height * info.channels);
    if (isCmyk && info.channels === 4)
      return { data: convertCmykToRgb(pixels), width: info.width, height: info.height, channels: 3 };
    return {
      data: sampleBytes === 2 ? convertSixteenBitSamples(pixels, info.channels) : pixels,
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch (error) {
    throw createDecodeError(error, header.format);
  }
}

/** A sharp decode failure as ImageInputError: ETRUNCATED when libvips says the data ended early, else EBADIMAGE. */
export function createDecodeError(error: unknown, format: string): ImageInputError {
  const reason = describeSharpError(error);
  if (/exceeds pixel limit/i.test(reason))
    return new ImageInputError('ETOOMANYPIXELS', `The ${format} image is over the pixel limit: ${reason}.`, error);
  const isTruncated = isTruncationMessage(reason);
  const what = isTruncated ? 'is truncated' : 'cannot be decoded';
  return new ImageInputError(
    isTruncated ? 'ETRUNCATED' : 'EBADIMAGE',
    `The ${format} image ${what}: ${reason}.`,
    error,
  );
}

/**
 * 16-bit samples as Pillow 9 reads them: colour and grey+alpha PNGs unpack to their high byte ("RGB;16B", "LA;16B"),
 * while a plain 16-bit grey PNG opens as mode "I", whose convert("L") clips values above 255 to white.
 */
function convertSixteenBitSamples(samples: Uint8Array, channels: number): Uint8Array {
  const aligned = samples.byteOffset % 2 === 0 ? samples : samples.slice();
  const view = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
  const out = new Uint8Array(view.length);
  if (channels === 1) for (let i = 0; i < view.length; i++) out[i] = view[i] > 255 ? 255 : view[i];
  else for (let i = 0; i < view.length; i++) out[i] = view[i] >> 8;
  return out;
}

/**
 * Pillow's cmyk2rgb (Convert.c): R = (255 − K) − (C·(255 − K))/255
 * with its MULDIV255 rounding, no colour profile.
 */
export function convertCmykToRgb(cmyk: Uint8Array): Uint8Array {
  const pixelCount = cmyk.length >> 2;
  const out = new Uint8Array(pixelCount * 3);
  for (let p = 0, i = 0, o = 0; p < pixelCount; p++, i += 4, o += 3) {
    const inverseK = 255 - cmyk[i + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[i + c] * inverseK + 128;
      const v = inverseK - (((t >> 8) + t) >> 8);
      out[o + c] = v < 0 ? 0 : v;
    }
  }
  return out;
}

const TRUNCATION_MESSAGE =
  /truncat|premature end|unexpected end|end of (file|stream|data)|not enough|read error|short read|incomplete/i;

function isTruncationMessage(message: string): boolean {
  return TRUNCATION_MESSAGE.test(message);
}

/** sharp's messages are multi-line libvips logs; the first meaningful line is enough for a user. */
export function describeSharpError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines.find((l) => !/^vips2\w+: |^VipsJpeg: out of order read/.test(l)) ??
    lines[0] ??
    'unknown error'
  ).replace(/\.$/, '');
}
