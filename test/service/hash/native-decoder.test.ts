// The native decoders (native/): built where libjpeg is, serving JPEG and PNG, Pillow's pixels, and today's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import {
  getHashCapability,
  hammingDistance,
  hashImageDetailed,
  ImageInputError,
} from '../../../src/service/hash/hash-image.js';
import { getNativeDecoder, PNG_INFLATERS, type PngInflater } from '../../../src/service/hash/native-addon.js';
import { readPngLayout } from '../../../src/service/hash/png-layout.js';
import { createFixtureImage } from '../../helpers/images.js';
import {
  buildPng,
  createChunk,
  createPngSpecs,
  DEFLATE_VARIANTS,
  getPngSpecName,
  type DeflateVariant,
} from './png-fixtures.js';

/** Decodes a PNG's L pixels through the addon: one tap of weight 1.0 per output pixel makes the "resample" a copy. */
async function decodePngLuma(bytes: Buffer, inflater: PngInflater = 'auto'): Promise<Uint8Array> {
  const decoder = getNativeDecoder();
  const layout = readPngLayout(bytes);
  assert.ok(decoder !== null && layout !== undefined);
  const { width, height } = layout;
  const bounds = Int32Array.from({ length: width * 2 }, (_, i) => (i % 2 === 0 ? i / 2 : 1));
  const weights = new Int32Array(width).fill(1 << 22);
  return new Uint8Array(
    await decoder.decodePngRows(
      bytes,
      layout.segments,
      width,
      height,
      layout.bitDepth,
      layout.colorType,
      layout.isInterlaced,
      layout.paletteLuma,
      bounds,
      weights,
      1,
      width,
      0,
      height,
      PNG_INFLATERS.indexOf(inflater),
      1,
    ),
  );
}

async function getErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'hashed';
  } catch (error) {
    assert.ok(error instanceof ImageInputError, `expected ImageInputError, got ${String(error)}`);
    return error.code;
  }
}

test('the addon is built and active wherever the platform has libjpeg (no silent fallback to sharp)', () => {
  const capability = getHashCapability();
  if (!existsSync('/usr/include/jpeglib.h'))
    assert.fail('libjpeg62-turbo-dev is not installed: run the set-up command');
  assert.equal(
    capability.jpeg,
    'libjpeg-turbo',
    `the addon is not loaded: ${capability.reason}; run npm run build:native`,
  );
  assert.equal(capability.png, 'native-png');
  assert.equal(capability.pngInflater, 'libdeflate');
});

test('JPEG (RGB, grey, progressive) and PNG are served natively; CMYK JPEG, GIF and WebP by sharp', async () => {
  const base = await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'png' });
  const cases: [string, Buffer, string][] = [
    [
      'jpeg',
      await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'jpeg' }),
      'libjpeg-turbo',
    ],
    [
      'jpeg-gray',
      await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'jpeg-gray' }),
      'libjpeg-turbo',
    ],
    ['progressive', await sharp(base).jpeg({ progressive: true }).toBuffer(), 'libjpeg-turbo'],
    ['png', base, 'native-png'],
    [
      'png-palette',
      await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'png-palette' }),
      'native-png',
    ],
    ['cmyk', await sharp(base).toColourspace('cmyk').jpeg().toBuffer(), 'sharp'],
    ['gif', await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'gif' }), 'sharp'],
    [
      'webp',
      await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'webp-lossless' }),
      'sharp',
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    const native = await hashImageDetailed(bytes);
    assert.equal(native.decoder, expected, name);
    const viaSharp = await hashImageDetailed(bytes, { decoder: 'sharp' });
    assert.deepEqual(
      { ...native, decoder: '' },
      { ...viaSharp, decoder: '' },
      `${name}: native and sharp paths disagree`,
    );
  }
});

test(`decodes every PNG colour type, bit depth, filter, Adam7 and tRNS to Pillow's L pixels (every \
inflater)`, async () => {
  for (const spec of createPngSpecs()) {
    const { bytes, expectedLuma } = buildPng(spec);
    for (const inflater of PNG_INFLATERS)
      assert.deepEqual(await decodePngLuma(bytes, inflater), expectedLuma, `${getPngSpecName(spec)} via ${inflater}`);
  }
});

test('every inflater decodes stored, fixed-Huffman, dynamic, Huffman-only and run-length IDAT streams', async () => {
  let seed = 100;
  for (const deflate of Object.keys(DEFLATE_VARIANTS) as DeflateVariant[]) {
    for (const spec of [
      { width: 301, height: 67, colorType: 2, bitDepth: 8, seed: seed++, deflate },
      { width: 97, height: 41, colorType: 0, bitDepth: 8, seed: seed++, deflate },
      { width: 64, height: 64, colorType: 6, bitDepth: 16, seed: seed++, deflate },
    ] as const) {
      const { bytes, expectedLuma } = buildPng(spec);
      for (const inflater of PNG_INFLATERS)
        assert.deepEqual(await decodePngLuma(bytes, inflater), expectedLuma, `${getPngSpecName(spec)} via ${inflater}`);
    }
  }
});

test(`equals sharp's pixels on sharp-encoded palette, tRNS, 16-bit, grey+alpha, interlaced and 2-colour \
PNGs`, async () => {
  const base = await createFixtureImage({ kind: 'photo', width: 61, height: 47, seed: 12, format: 'png' });
  const inputs = {
    palette: await sharp(base).png({ palette: true, colours: 50 }).toBuffer(),
    paletteAlpha: await sharp(base).ensureAlpha(0.5).png({ palette: true, colours: 50 }).toBuffer(),
    rgb16: await sharp(base).toColourspace('rgb16').png().toBuffer(),
    grey16: await sharp(base).toColourspace('grey16').png().toBuffer(),
    greyAlpha: await sharp(base).toColourspace('b-w').ensureAlpha(0.3).png().toBuffer(),
    interlaced: await sharp(base).png({ progressive: true }).toBuffer(),
    twoColour: await sharp(base).toColourspace('b-w').png({ palette: true, colours: 2 }).toBuffer(),
  };
  for (const [name, bytes] of Object.entries(inputs)) {
    const native = await hashImageDetailed(bytes);
    assert.equal(native.decoder, 'native-png', name);
    assert.equal(native.hash, (await hashImageDetailed(bytes, { decoder: 'sharp' })).hash, name);
  }
  assert.equal(readPngLayout(inputs.interlaced)?.isInterlaced, true);
  assert.equal(readPngLayout(inputs.twoColour)?.bitDepth, 1);
});

test('truncated or corrupt PNG and JPEG data give the same coded error as the sharp path', async () => {
  const png = await createFixtureImage({ kind: 'noise', width: 200, height: 150, seed: 4, format: 'png' });
  const jpeg = await createFixtureImage({ kind: 'noise', width: 200, height: 150, seed: 4, format: 'jpeg' });
  const layout = readPngLayout(png);
  assert.ok(layout !== undefined);
  const badCrc = Buffer.from(png);
  badCrc[layout.segments[0] + layout.segments[1]] ^= 0xff;
  const badDeflate = Buffer.from(png);
  for (let i = 0; i < 64; i++) badDeflate[layout.segments[0] + 10 + i] ^= 0x5a;
  // Re-sign the damaged chunk, so only the zlib stream is wrong.
  createChunk('IDAT', badDeflate.subarray(layout.segments[0], layout.segments[0] + layout.segments[1])).copy(
    badDeflate,
    layout.segments[0] - 8,
  );
  const cases: [string, Uint8Array, string][] = [
    ['png cut in half', png.subarray(0, png.length >> 1), 'ETRUNCATED'],
    ['png without IEND', png.subarray(0, png.length - 12), 'hashed'],
    ['png with a bad IDAT CRC', badCrc, 'ETRUNCATED'],
    ['png with a broken zlib stream', badDeflate, 'ETRUNCATED'],
    ['jpeg cut in half', jpeg.subarray(0, jpeg.length >> 1), 'ETRUNCATED'],
    ['jpeg cut after its header', jpeg.subarray(0, 700), 'ETRUNCATED'],
  ];
  for (const [name, bytes, expected] of cases) {
    for (const mode of ['exact', 'fast'] as const) {
      const viaSharp = await getErrorCode(hashImageDetailed(bytes, { decoder: 'sharp', mode }));
      assert.equal(await getErrorCode(hashImageDetailed(bytes, { mode })), viaSharp, `${name} (${mode})`);
      assert.equal(viaSharp, expected, `${name} (${mode}) via sharp`);
    }
  }
});

test('refuses JPEG and PNG headers over the pixel limit before decoding (ETOOMANYPIXELS)', async () => {
  const jpeg = await createFixtureImage({ kind: 'photo', width: 64, height: 48, seed: 1, format: 'jpeg' });
  const bomb = Buffer.from(jpeg);
  const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
  bomb.writeUInt16BE(60000, sof + 5);
  bomb.writeUInt16BE(60000, sof + 7);
  const started = performance.now();
  await assert.rejects(hashImageDetailed(bomb), (error: unknown) => {
    assert.ok(error instanceof ImageInputError);
    assert.equal(error.code, 'ETOOMANYPIXELS');
    assert.match(error.message, /60000x60000 = 3600000000 pixels, over the limit of 89478485/);
    return true;
  });
  assert.ok(performance.now() - started < 1000);
  const png = buildPng({ width: 64, height: 48, colorType: 2, bitDepth: 8, seed: 3 }).bytes;
  for (const [maxPixels, expected] of [
    [64 * 48, 'hashed'],
    [64 * 48 - 1, 'ETOOMANYPIXELS'],
  ] as const) {
    assert.equal(await getErrorCode(hashImageDetailed(png, { maxPixels })), expected);
    assert.equal(await getErrorCode(hashImageDetailed(jpeg, { maxPixels })), expected);
  }
});

test(`fast mode samples every 2nd PNG row and column natively, within a few bits of exact; Adam7 is not \
sampled`, async () => {
  const png = await createFixtureImage({ kind: 'photo', width: 640, height: 480, seed: 3, format: 'png' });
  const interlaced = await sharp(png).png({ progressive: true }).toBuffer();
  for (const bytes of [png, interlaced]) {
    const exact = await hashImageDetailed(bytes);
    const fast = await hashImageDetailed(bytes, { mode: 'fast' });
    assert.equal(fast.decoder, 'native-png');
    assert.ok(hammingDistance(exact.hash, fast.hash) <= 8, `${exact.hash} vs ${fast.hash}`);
  }
  assert.equal(
    (await hashImageDetailed(interlaced, { mode: 'fast' })).hash,
    (await hashImageDetailed(interlaced)).hash,
  );
});
