// Reads a PNG's chunk layout (IHDR, PLTE, IDAT spans) for the native decoder;
// anything unusual means "let sharp decode it".
import { crc32 } from 'node:zlib';
import { computeLuma } from './luma.js';

export interface PngLayout {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  isInterlaced: boolean;
  /** Pillow's L value of each palette index (colour type 3), else null. */
  paletteLuma: Uint8Array | null;
  /** IDAT payloads as (offset, length) pairs into the file. */
  segments: Int32Array;
}

/** Bit depths PNG allows per colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const BIT_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const KNOWN_CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

/** Just the IHDR size, for the pixel limit; undefined unless the file opens with a well-formed IHDR. */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 33 || readType(bytes, 12) !== 'IHDR' || readUint32(bytes, 8) !== 13) return undefined;
  return { width: readUint32(bytes, 16), height: readUint32(bytes, 20) };
}

/**
 * The full layout, or undefined for anything the native path does not take: a bad CRC outside IDAT, an unknown critical
 * chunk, split IDAT runs, a missing IEND, an invalid header. Those files go to sharp, so their outcome (often an
 * EBADIMAGE or ETRUNCATED) stays exactly what it was before the native decoder.
 */
export function readPngLayout(bytes: Uint8Array): PngLayout | undefined {
  const size = readPngSize(bytes);
  if (size === undefined) return undefined;
  const [bitDepth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  const isHeaderValid =
    size.width > 0 &&
    size.height > 0 &&
    size.width < 2 ** 31 &&
    size.height < 2 ** 31 &&
    compression === 0 &&
    filter === 0 &&
    interlace <= 1;
  if (!isHeaderValid || !BIT_DEPTHS[colorType]?.includes(bitDepth)) return undefined;
  const segments: number[] = [];
  let palette: Uint8Array | undefined;
  let hasEnded = false;
  let hasIdatEnded = false;
  for (let at = 8; !hasEnded;) {
    if (at + 12 > bytes.length) return undefined;
    const length = readUint32(bytes, at);
    const type = readType(bytes, at + 4);
    const end = at + 12 + length;
    if (length > 2 ** 31 - 1 || end > bytes.length) return undefined;
    // IDAT CRCs are checked by the addon on the thread pool, where the bytes are read anyway.
    const isCrcValid =
      type === 'IDAT' || crc32(bytes.subarray(at + 4, at + 8 + length)) === readUint32(bytes, at + 8 + length);
    if (!isCrcValid) return undefined;
    const isCritical = type.charCodeAt(0) >= 65 && type.charCodeAt(0) <= 90;
    if (isCritical && !KNOWN_CRITICAL.has(type)) return undefined;
    if (type === 'IHDR' && at !== 8) return undefined;
    if (type === 'IDAT') {
      if (hasIdatEnded) return undefined;
      segments.push(at + 8, length);
    } else if (segments.length > 0) {
      hasIdatEnded = true;
    }
    if (type === 'PLTE') {
      if (palette !== undefined || length % 3 !== 0 || length > 768 || segments.length > 0) return undefined;
      palette = bytes.subarray(at + 8, at + 8 + length);
    }
    hasEnded = type === 'IEND';
    at = end;
  }
  if (segments.length === 0 || (colorType === 3 && palette === undefined)) return undefined;
  return {
    ...size,
    bitDepth,
    colorType,
    isInterlaced: interlace === 1,
    paletteLuma: colorType === 3 && palette !== undefined ? createPaletteLuma(palette) : null,
    segments: Int32Array.from(segments),
  };
}

/**
 * Pillow's P → L table: its palette starts as a grey ramp (ImagingPaletteNew), the PLTE entries overwrite the
 * first ones, and each entry becomes L24 of its RGB. So an index past the PLTE reads as grey = index, as in Pillow.
 */
export function createPaletteLuma(palette: Uint8Array): Uint8Array {
  const luma = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0; i * 3 + 2 < palette.length; i++)
    luma[i] = computeLuma(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]);
  return luma;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function readType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}
