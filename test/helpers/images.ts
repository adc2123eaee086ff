// Deterministic test images drawn from seeds and encoded with sharp: gradients, checkerboards, photo-like noise, flat.
import sharp from 'sharp';

export type FixtureKind = 'gradient' | 'checkerboard' | 'noise' | 'photo' | 'flat' | 'near-flat';
export type FixtureFormat =
  'jpeg' | 'jpeg-gray' | 'png' | 'png-rgba' | 'png-gray' | 'png-gray-alpha' | 'png-palette' | 'webp-lossless' | 'gif';

export interface FixtureSpec {
  kind: FixtureKind;
  width: number;
  height: number;
  seed: number;
  format: FixtureFormat;
  /** JPEG quality 1–100 (default 85). */
  quality?: number;
  /** JPEG chroma subsampling (default 4:2:0). */
  chroma?: '4:2:0' | '4:4:4';
}

/** The file extension a spec's bytes should be saved under. */
export function getFixtureExtension(format: FixtureFormat): string {
  if (format.startsWith('jpeg')) return 'jpg';
  if (format.startsWith('png')) return 'png';
  if (format.startsWith('webp')) return 'webp';
  return 'gif';
}

export function getFixtureName(spec: FixtureSpec): string {
  const jpeg = spec.format.startsWith('jpeg')
    ? `-q${spec.quality ?? 85}-${(spec.chroma ?? '4:2:0').replaceAll(':', '')}`
    : '';
  const extension = getFixtureExtension(spec.format);
  return `${spec.kind}-${spec.width}x${spec.height}-s${spec.seed}-${spec.format}${jpeg}.${extension}`;
}

/** mulberry32: a tiny seeded PRNG, so the same seed always draws the same image. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** RGBA pixels (4 bytes each) for a kind; alpha varies across the image so alpha handling is exercised. */
export function drawFixturePixels(kind: FixtureKind, width: number, height: number, seed: number): Uint8Array {
  const random = createRandom(seed);
  const out = new Uint8Array(width * height * 4);
  const base = [random() * 255, random() * 255, random() * 255];
  const cell = 1 + Math.floor(random() * Math.max(2, Math.min(width, height) / 4));
  // Photo-like: a few soft blobs over a tilted gradient, plus fine grain.
  const blobs = Array.from({ length: 6 }, () => ({
    x: random() * width,
    y: random() * height,
    r: (0.1 + random() * 0.5) * Math.max(width, height),
    color: [random() * 255, random() * 255, random() * 255],
  }));
  const angle = random() * Math.PI * 2;
  const dx = Math.cos(angle) / Math.max(1, width);
  const dy = Math.sin(angle) / Math.max(1, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let r = base[0];
      let g = base[1];
      let b = base[2];
      if (kind === 'gradient') {
        const t = (x * dx + y * dy) * 255;
        r = base[0] + t;
        g = base[1] - t * 0.7;
        b = base[2] + t * 0.3;
      } else if (kind === 'checkerboard') {
        const on = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 === 0;
        r = on ? base[0] : 255 - base[0];
        g = on ? base[1] : 255 - base[1];
        b = on ? base[2] : 255 - base[2];
      } else if (kind === 'noise') {
        r = random() * 256;
        g = random() * 256;
        b = random() * 256;
      } else if (kind === 'photo') {
        const t = (x * dx + y * dy) * 120;
        r = base[0] * 0.5 + t;
        g = base[1] * 0.5 - t * 0.5;
        b = base[2] * 0.5 + t * 0.2;
        for (const blob of blobs) {
          const d2 = ((x - blob.x) ** 2 + (y - blob.y) ** 2) / (blob.r * blob.r);
          const weight = Math.exp(-d2 * 3);
          r += (blob.color[0] - r) * weight;
          g += (blob.color[1] - g) * weight;
          b += (blob.color[2] - b) * weight;
        }
        const grain = (random() - 0.5) * 24;
        r += grain;
        g += grain;
        b += grain;
      } else if (kind === 'near-flat') {
        // ±2 levels around one colour: every thumbnail comparison is a near-tie, the hardest case for rounding.
        const jitter = Math.floor(random() * 5) - 2;
        r += jitter;
        g += jitter;
        b += jitter;
      }
      out[i] = clampByte(r);
      out[i + 1] = clampByte(g);
      out[i + 2] = clampByte(b);
      out[i + 3] = clampByte(255 - ((x * 3 + y * 5) % 256) * (kind === 'flat' ? 0 : 1));
    }
  }
  return out;
}

function pickChannels(rgba: Uint8Array, pixelCount: number, channels: number[]): Buffer {
  const out = Buffer.alloc(pixelCount * channels.length);
  for (let p = 0; p < pixelCount; p++) {
    for (let c = 0; c < channels.length; c++) out[p * channels.length + c] = rgba[p * 4 + channels[c]];
  }
  return out;
}

function toGray(rgba: Uint8Array, pixelCount: number, withAlpha: boolean): Buffer {
  const stride = withAlpha ? 2 : 1;
  const out = Buffer.alloc(pixelCount * stride);
  for (let p = 0; p < pixelCount; p++) {
    out[p * stride] = (rgba[p * 4] * 3 + rgba[p * 4 + 1] * 5 + rgba[p * 4 + 2] * 2) >> 3;
    if (withAlpha) out[p * stride + 1] = rgba[p * 4 + 3];
  }
  return out;
}

/** Encoded image bytes for a spec; the same spec always gives the same bytes on the same sharp version. */
export async function createFixtureImage(spec: FixtureSpec): Promise<Buffer> {
  const { width, height, format } = spec;
  const rgba = drawFixturePixels(spec.kind, width, height, spec.seed);
  const n = width * height;
  const raw = (data: Buffer, channels: 1 | 2 | 3 | 4) =>
    sharp(data, { raw: { width, height, channels }, limitInputPixels: false });
  switch (format) {
    case 'jpeg':
      return raw(pickChannels(rgba, n, [0, 1, 2]), 3)
        .jpeg({ quality: spec.quality ?? 85, chromaSubsampling: spec.chroma ?? '4:2:0' })
        .toBuffer();
    case 'jpeg-gray':
      return raw(toGray(rgba, n, false), 1)
        .toColourspace('b-w')
        .jpeg({ quality: spec.quality ?? 85 })
        .toBuffer();
    case 'png':
      return raw(pickChannels(rgba, n, [0, 1, 2]), 3)
        .png({ compressionLevel: 1 })
        .toBuffer();
    case 'png-rgba':
      return raw(Buffer.from(rgba), 4).png({ compressionLevel: 1 }).toBuffer();
    case 'png-gray':
      return raw(toGray(rgba, n, false), 1)
        .toColourspace('b-w')
        .png({ compressionLevel: 1 })
        .toBuffer();
    case 'png-gray-alpha':
      return raw(toGray(rgba, n, true), 2)
        .toColourspace('b-w')
        .png({ compressionLevel: 1 })
        .toBuffer();
    case 'png-palette':
      return raw(pickChannels(rgba, n, [0, 1, 2]), 3)
        .png({ palette: true, colours: 64, dither: 0 })
        .toBuffer();
    case 'webp-lossless':
      return raw(pickChannels(rgba, n, [0, 1, 2]), 3)
        .webp({ lossless: true })
        .toBuffer();
    case 'gif':
      return raw(pickChannels(rgba, n, [0, 1, 2]), 3)
        .gif()
        .toBuffer();
    default:
      throw new TypeError(`Unknown fixture format \`${String(format)}\`.`);
  }
}

/**
 * The reference set: every kind × every format, odd sizes (1×1, 9×8, 4000×300, 5000×5000 among them),
 * JPEG at several qualities in 4:2:0 and 4:4:4. `includeHuge` adds the 5000×5000 image (slow to encode).
 */
export function createFixtureSet(options: { includeHuge?: boolean } = {}): FixtureSpec[] {
  const specs: FixtureSpec[] = [];
  const kinds: FixtureKind[] = ['gradient', 'checkerboard', 'noise', 'photo', 'flat', 'near-flat'];
  const formats: FixtureFormat[] = ['png', 'png-rgba', 'png-gray', 'png-gray-alpha', 'png-palette', 'jpeg-gray', 'gif'];
  const sizes: [number, number][] = [
    [1, 1],
    [9, 8],
    [10, 9],
    [17, 13],
    [64, 48],
    [333, 257],
    [640, 480],
    [1023, 769],
    [4000, 300],
    [300, 4000],
  ];
  let seed = 1;
  for (const kind of kinds) {
    for (const [width, height] of sizes.slice(kinds.indexOf(kind) % 2, sizes.length)) {
      // Cycle the JPEG settings so every quality and both subsamplings meet every size.
      const quality = [95, 85, 75, 50, 20][seed % 5];
      const chroma = seed % 2 === 0 ? '4:2:0' : '4:4:4';
      specs.push({ kind, width, height, seed: seed++, format: 'jpeg', quality, chroma });
    }
    for (const [index, format] of formats.entries()) {
      const [width, height] = sizes[(index * 3 + kinds.indexOf(kind)) % sizes.length];
      specs.push({ kind, width, height, seed: seed++, format });
    }
  }
  specs.push({ kind: 'photo', width: 801, height: 601, seed: seed++, format: 'webp-lossless' });
  specs.push({ kind: 'gradient', width: 2, height: 3, seed: seed++, format: 'png' });
  specs.push({ kind: 'photo', width: 1600, height: 1200, seed: seed++, format: 'jpeg', quality: 90, chroma: '4:2:0' });
  if (options.includeHuge)
    specs.push({
      kind: 'photo',
      width: 5000,
      height: 5000,
      seed: seed++,
      format: 'jpeg',
      quality: 80,
      chroma: '4:2:0',
    });
  return specs;
}

/**
 * Encodings the plain set does not cover, each a case a careless decoder gets wrong against Pillow:
 * embedded non-sRGB ICC profiles, EXIF rotation, 16-bit samples, CMYK JPEG, progressive JPEG, TIFF, lossy WebP.
 */
export async function createEdgeCaseImages(seed = 77): Promise<{ name: string; bytes: Buffer }[]> {
  const base = await createFixtureImage({ kind: 'photo', width: 301, height: 203, seed, format: 'png' });
  const dark16 = new Uint16Array(301 * 203).map((_, i) => (i * 7919) % 300);
  return [
    { name: 'icc-p3.jpg', bytes: await sharp(base).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer() },
    { name: 'icc-p3.png', bytes: await sharp(base).withIccProfile('p3').png().toBuffer() },
    { name: 'exif-orientation-6.jpg', bytes: await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer() },
    { name: 'progressive.jpg', bytes: await sharp(base).jpeg({ progressive: true, quality: 70 }).toBuffer() },
    { name: 'rgb16.png', bytes: await sharp(base).toColourspace('rgb16').png().toBuffer() },
    { name: 'rgba16.png', bytes: await sharp(base).ensureAlpha(0.7).toColourspace('rgb16').png().toBuffer() },
    { name: 'gray16.png', bytes: await sharp(base).toColourspace('grey16').png().toBuffer() },
    {
      name: 'gray16-dark.png',
      bytes: await sharp(dark16, { raw: { width: 301, height: 203, channels: 1 } })
        .toColourspace('grey16')
        .png()
        .toBuffer(),
    },
    { name: 'half-transparent.png', bytes: await sharp(base).ensureAlpha(0.5).png().toBuffer() },
    {
      name: 'two-colour.png',
      bytes: await sharp(base).toColourspace('b-w').png({ palette: true, colours: 2 }).toBuffer(),
    },
    { name: 'cmyk.jpg', bytes: await sharp(base).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer() },
    { name: 'plain.tif', bytes: await sharp(base).tiff().toBuffer() },
    { name: 'lossy.webp', bytes: await sharp(base).webp({ quality: 70 }).toBuffer() },
  ];
}
