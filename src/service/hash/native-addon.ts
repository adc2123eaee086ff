// Loads the optional N-API decoder (native/, built at npm ci over the system libjpeg-turbo)
// and says which decoders serve.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/src/addon.c). Decodes run on the libuv thread pool; they reject with a plain Error. */
export interface NativeDecoder {
  /** [width, height, components, jpegColorSpace, outWidth, outHeight, isProgressive]; throws on a bad header. */
  readJpegInfo(bytes: Uint8Array, scaleDenom: number): number[];
  decodeJpegRows(
    bytes: Uint8Array,
    scaleDenom: number,
    isFast: boolean,
    bounds: Int32Array,
    weights: Int32Array,
    kernelSize: number,
    outWidth: number,
    firstRow: number,
    rowCount: number,
  ): Promise<Uint8Array>;
  decodePngRows(
    bytes: Uint8Array,
    segments: Int32Array,
    width: number,
    height: number,
    bitDepth: number,
    colorType: number,
    isInterlaced: boolean,
    paletteLuma: Uint8Array | null,
    bounds: Int32Array,
    weights: Int32Array,
    kernelSize: number,
    outWidth: number,
    firstRow: number,
    rowCount: number,
    /** PNG_INFLATERS' index: 0 auto, 1 streaming zlib, 2 libdeflate (zlib without it), 3 our own (inflate.c). */
    inflater: number,
    /** 1, or 2 (fast mode, not interlaced): only every 2nd row and column; firstRow/rowCount count kept rows. */
    step: number,
  ): Promise<Uint8Array>;
  /**
   * The HashIndex probe of one table (native/src/hash-probe.c): writes (position, distance) pairs of the live
   * entries within query[5] bits to `out` and returns how many there are, which may exceed its room (call again
   * with more). query: [key, filter word, rest bits, hi, lo, radius]. Throws on arrays that do not fit together.
   */
  probeTable(
    offsets: Uint32Array,
    filter: Uint32Array,
    rest: Uint16Array,
    at: Uint32Array,
    hi: Uint32Array,
    lo: Uint32Array,
    alive: Uint8Array,
    masks: Uint32Array,
    query: Uint32Array,
    out: Uint32Array,
  ): number;
  jpegLibVersion: number;
  /** 'libdeflate' (whole-buffer, loaded at run time when libdeflate.so.0 exists) or 'zlib' (streaming). */
  pngInflater: 'libdeflate' | 'zlib';
  zlibVersion: string;
}

/**
 * How the native PNG path inflates IDAT. 'auto', what the service runs: our own inflater (native/src/inflate.c) for
 * streams that open with a fixed-Huffman block, libdeflate for the rest, streaming zlib without libdeflate. The others
 * force one inflater, for benchmarks and tests.
 */
export const PNG_INFLATERS = ['auto', 'zlib', 'libdeflate', 'own'] as const;
export type PngInflater = (typeof PNG_INFLATERS)[number];

export type JpegDecoderName = 'libjpeg-turbo' | 'sharp';
export type PngDecoderName = 'native-png' | 'sharp';
export type DecoderName = JpegDecoderName | PngDecoderName;

export interface HashCapability {
  jpeg: JpegDecoderName;
  png: PngDecoderName;
  /** Whether libdeflate.so.0 loaded (it inflates dynamic-Huffman IDAT streams, ours the fixed-Huffman ones), else zlib. */
  pngInflater?: 'libdeflate' | 'zlib';
  /** Every other format (GIF, WebP, TIFF) and every file the native decoders decline. */
  fallback: 'sharp';
  /** Why the addon is not in use, when it is not. */
  reason?: string;
}

/** Where scripts/build-native.mjs leaves the addon, from the project (or release) root; releases copy it there. */
export const NATIVE_ADDON_FILE = 'native/build/Release/dhash_native.node';

/** Relative to this file in src/service/hash and in dist/service/hash alike. */
const ADDON_PATH = fileURLToPath(new URL(`../../../${NATIVE_ADDON_FILE}`, import.meta.url));

let loaded: { decoder: NativeDecoder | null; reason?: string } | undefined;

function loadNativeDecoder(): { decoder: NativeDecoder | null; reason?: string } {
  try {
    return { decoder: createRequire(import.meta.url)(ADDON_PATH) as NativeDecoder };
  } catch (error) {
    const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return {
      decoder: null,
      reason: `${firstLine} (build it with \`npm run build:native\`; needs libjpeg62-turbo-dev)`,
    };
  }
}

/** The addon, or null when it is not built (then sharp decodes everything, as before the addon existed). */
export function getNativeDecoder(): NativeDecoder | null {
  loaded ??= loadNativeDecoder();
  return loaded.decoder;
}

export function getHashCapability(): HashCapability {
  const decoder = getNativeDecoder();
  if (decoder === null) return { jpeg: 'sharp', png: 'sharp', fallback: 'sharp', reason: loaded?.reason };
  return { jpeg: 'libjpeg-turbo', png: 'native-png', pngInflater: decoder.pngInflater, fallback: 'sharp' };
}
