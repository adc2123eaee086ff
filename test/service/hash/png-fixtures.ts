// Hand-built PNGs for the native decoder's tests: every colour type and bit depth, all five filters, Adam7, tRNS.
import { constants, crc32, deflateSync } from 'node:zlib';
import { createRandom } from '../../helpers/images.js';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  isInterlaced?: boolean;
  seed: number;
  /** Adds a tRNS chunk (palette alpha, or the transparent grey/RGB colour). */
  hasTransparency?: boolean;
  /** How the IDAT stream is compressed (default zlib's level 6, dynamic blocks): see DEFLATE_VARIANTS. */
  deflate?: DeflateVariant;
}

/** zlib settings that give each kind of DEFLATE block: stored, fixed Huffman, dynamic, literals only, runs. */
export const DEFLATE_VARIANTS = {
  default: { level: 6 },
  stored: { level: 0 },
  fixed: { level: 1, strategy: constants.Z_FIXED },
  fixedBest: { level: 9, strategy: constants.Z_FIXED },
  huffmanOnly: { level: 6, strategy: constants.Z_HUFFMAN_ONLY },
  rle: { level: 6, strategy: constants.Z_RLE },
  fastest: { level: 1 },
} as const;
export type DeflateVariant = keyof typeof DEFLATE_VARIANTS;

export interface BuiltPng {
  bytes: Buffer;
  /** What Pillow 9's convert("L") gives for these pixels, row-major. */
  expectedLuma: Uint8Array;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [
  [0, 8, 0, 8],
  [4, 8, 0, 8],
  [0, 4, 4, 8],
  [2, 4, 0, 4],
  [0, 2, 2, 4],
  [1, 2, 0, 2],
  [0, 1, 1, 2],
];

export function getPngSpecName(spec: PngSpec): string {
  const extras = `${spec.isInterlaced ? '-adam7' : ''}${spec.hasTransparency ? '-trns' : ''}${spec.deflate ? `-${spec.deflate}` : ''}`;
  return `type${spec.colorType}-${spec.bitDepth}bit-${spec.width}x${spec.height}-s${spec.seed}${extras}.png`;
}

/** Random samples, the PNG that holds them (row filters cycling 0–4), and Pillow's L for them. */
export function buildPng(spec: PngSpec): BuiltPng {
  const { width, height, colorType, bitDepth } = spec;
  const random = createRandom(spec.seed);
  const channels = CHANNELS[colorType];
  const maxSample = colorType === 3 ? Math.min(255, 2 ** bitDepth - 1) : 2 ** bitDepth - 1;
  // Palette: more entries than indices used would be unremarkable; fewer exercises Pillow's grey-ramp default.
  const paletteSize = colorType === 3 ? Math.max(1, Math.floor(((maxSample + 1) * 3) / 4)) : 0;
  const palette = Uint8Array.from({ length: paletteSize * 3 }, () => Math.floor(random() * 256));
  const samples = Array.from({ length: height }, () =>
    Uint16Array.from({ length: width * channels }, () => Math.floor(random() * (maxSample + 1))),
  );
  const expectedLuma = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) expectedLuma[y * width + x] = computePillowLuma(spec, samples[y], x, palette);

  const chunks: Buffer[] = [createChunk('IHDR', createHeader(spec))];
  if (colorType === 3) chunks.push(createChunk('PLTE', Buffer.from(palette)));
  if (spec.hasTransparency) chunks.push(createChunk('tRNS', createTransparency(spec, paletteSize)));
  const raw = spec.isInterlaced ? serializeInterlaced(spec, samples) : serializeRows(spec, samples, width);
  const compressed = deflateSync(raw, DEFLATE_VARIANTS[spec.deflate ?? 'default']);
  // Several IDAT chunks, as real encoders write them.
  for (let at = 0; at < compressed.length; at += 997)
    chunks.push(createChunk('IDAT', compressed.subarray(at, at + 997)));
  chunks.push(createChunk('IEND', Buffer.alloc(0)));
  return {
    bytes: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]),
    expectedLuma,
  };
}

/** Pillow 9: 1/2/4-bit grey scaled to 0–255; 16-bit grey is mode I, clipped at 255; other 16-bit by the high byte. */
function computePillowLuma(spec: PngSpec, row: Uint16Array, x: number, palette: Uint8Array): number {
  const { colorType, bitDepth } = spec;
  const high = (v: number) => (bitDepth === 16 ? v >> 8 : v);
  const l24 = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  if (colorType === 0) {
    const v = row[x];
    return bitDepth === 16 ? Math.min(v, 255) : bitDepth === 8 ? v : v * (255 / (2 ** bitDepth - 1));
  }
  if (colorType === 3) {
    const i = row[x];
    return i * 3 + 2 < palette.length ? l24(palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]) : i;
  }
  if (colorType === 4) return high(row[x * 2]);
  const c = CHANNELS[colorType];
  return l24(high(row[x * c]), high(row[x * c + 1]), high(row[x * c + 2]));
}

function createHeader(spec: PngSpec): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(spec.width, 0);
  header.writeUInt32BE(spec.height, 4);
  header.set([spec.bitDepth, spec.colorType, 0, 0, spec.isInterlaced ? 1 : 0], 8);
  return header;
}

function createTransparency(spec: PngSpec, paletteSize: number): Buffer {
  if (spec.colorType === 3) return Buffer.from(Array.from({ length: paletteSize }, (_, i) => (i * 37) % 256));
  if (spec.colorType === 0) return Buffer.from([0, 1]);
  return Buffer.from([0, 1, 0, 2, 0, 3]);
}

export function createChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function packRow(spec: PngSpec, samples: Uint16Array, pixelCount: number): Buffer {
  const count = pixelCount * CHANNELS[spec.colorType];
  const out = Buffer.alloc(Math.ceil((count * spec.bitDepth) / 8));
  for (let i = 0; i < count; i++) {
    if (spec.bitDepth === 16) out.writeUInt16BE(samples[i], i * 2);
    else if (spec.bitDepth === 8) out[i] = samples[i];
    else {
      const bit = i * spec.bitDepth;
      out[bit >> 3] |= samples[i] << (8 - spec.bitDepth - (bit & 7));
    }
  }
  return out;
}

/** Filter type y % 5 on each row: none, sub, up, average, Paeth. */
function serializeRows(spec: PngSpec, rows: Uint16Array[], pixelCount: number): Buffer {
  const bpp = Math.max(1, (CHANNELS[spec.colorType] * spec.bitDepth) >> 3);
  const parts: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(
    packRow(spec, new Uint16Array(pixelCount * CHANNELS[spec.colorType]), pixelCount).length,
  );
  rows.forEach((samples, y) => {
    const row = packRow(spec, samples, pixelCount);
    const filter = y % 5;
    const filtered = Buffer.alloc(row.length + 1);
    filtered[0] = filter;
    for (let i = 0; i < row.length; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = previous[i];
      const c = i >= bpp ? previous[i - bpp] : 0;
      const predictor = [0, a, b, (a + b) >> 1, getPaeth(a, b, c)][filter];
      filtered[i + 1] = (row[i] - predictor) & 0xff;
    }
    parts.push(filtered);
    previous = row;
  });
  return Buffer.concat(parts);
}

function serializeInterlaced(spec: PngSpec, rows: Uint16Array[]): Buffer {
  const channels = CHANNELS[spec.colorType];
  const parts: Buffer[] = [];
  for (const [x0, dx, y0, dy] of ADAM7) {
    const passRows: Uint16Array[] = [];
    for (let y = y0; y < spec.height; y += dy) {
      const picked: number[] = [];
      for (let x = x0; x < spec.width; x += dx) picked.push(...rows[y].subarray(x * channels, x * channels + channels));
      if (picked.length > 0) passRows.push(Uint16Array.from(picked));
    }
    if (passRows.length > 0) parts.push(serializeRows(spec, passRows, passRows[0].length / channels));
  }
  return Buffer.concat(parts);
}

function getPaeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Every colour type × bit depth PNG allows, plain and Adam7, some with tRNS, at sizes whose Adam7 passes are ragged.
 */
export function createPngSpecs(): PngSpec[] {
  const depths: Record<number, (1 | 2 | 4 | 8 | 16)[]> = {
    0: [1, 2, 4, 8, 16],
    2: [8, 16],
    3: [1, 2, 4, 8],
    4: [8, 16],
    6: [8, 16],
  };
  const specs: PngSpec[] = [];
  let seed = 1;
  for (const colorType of [0, 2, 3, 4, 6] as const) {
    for (const bitDepth of depths[colorType]) {
      for (const isInterlaced of [false, true]) {
        specs.push({
          width: 37 + seed,
          height: 23 + (seed % 7),
          colorType,
          bitDepth,
          isInterlaced,
          seed: seed++,
          hasTransparency: colorType <= 3 && seed % 2 === 0,
        });
      }
    }
  }
  return specs;
}
