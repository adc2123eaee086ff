// hashImage end to end through sharp: modes, metadata, and every kind of bad input (including a fuzz run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { hammingDistance, hashImage, ImageInputError } from '../../../src/service/hash/hash-image.js';
import { createFixtureImage, createRandom } from '../../helpers/images.js';

async function assertInputError(promise: Promise<unknown>, code: string, httpStatus: number, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ImageInputError, `expected ImageInputError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.httpStatus, httpStatus);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Rewrites a PNG's IHDR size and its CRC, leaving the (tiny) pixel data alone: a decompression bomb header. */
function setPngSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(computeCrc32(out.subarray(12, 29)), 29);
  return out;
}

function computeCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('hashes a JPEG in both modes, reporting size and format; fast stays within a few bits of exact', async () => {
  const jpeg = await createFixtureImage({ kind: 'photo', width: 640, height: 480, seed: 3, format: 'jpeg' });
  const exact = await hashImage(jpeg);
  const fast = await hashImage(jpeg, { mode: 'fast' });
  assert.match(exact.hash, /^[0-9a-f]{16}$/);
  assert.deepEqual({ ...exact, hash: '' }, { hash: '', width: 640, height: 480, format: 'jpeg' });
  assert.equal(fast.format, 'jpeg');
  assert.ok(hammingDistance(exact.hash, fast.hash) <= 8, `${exact.hash} vs ${fast.hash}`);
});

test('a flat image hashes to zero and a left-to-right ramp to all ones', async () => {
  const flat = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  assert.equal((await hashImage(flat)).hash, '0000000000000000');
  const ramp = Buffer.alloc(90 * 8);
  for (let i = 0; i < ramp.length; i++) ramp[i] = (i % 90) * 2;
  const png = await sharp(ramp, { raw: { width: 90, height: 8, channels: 1 } })
    .png()
    .toBuffer();
  assert.equal((await hashImage(png)).hash, 'ffffffffffffffff');
  assert.equal((await hashImage(png, { mode: 'fast' })).hash, 'ffffffffffffffff');
});

test('ignores EXIF orientation, as Pillow does', async () => {
  const base = await createFixtureImage({ kind: 'photo', width: 300, height: 200, seed: 9, format: 'jpeg' });
  const rotated = await sharp(base).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toBuffer();
  const plain = await sharp(base).jpeg({ quality: 100 }).toBuffer();
  assert.equal((await sharp(rotated).metadata()).orientation, 6);
  assert.equal((await hashImage(rotated)).hash, (await hashImage(plain)).hash);
  assert.equal((await hashImage(rotated)).width, 300);
});

test('rejects an empty body with EEMPTYBODY (400)', async () => {
  await assertInputError(hashImage(new Uint8Array(0)), 'EEMPTYBODY', 400, /empty/);
});

test('rejects bytes that are not an image with EBADIMAGE (422)', async () => {
  await assertInputError(hashImage(Buffer.from('hello, this is not an image')), 'EBADIMAGE', 422, /not an image/);
});

test('rejects a PDF and an SVG with EUNSUPPORTEDFORMAT (415)', async () => {
  await assertInputError(
    hashImage(Buffer.from('%PDF-1.4\n%âãÏÓ\n')),
    'EUNSUPPORTEDFORMAT',
    415,
    /pdf is not supported/,
  );
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  await assertInputError(hashImage(svg), 'EUNSUPPORTEDFORMAT', 415, /svg/);
});

test('rejects truncated JPEG and PNG data with ETRUNCATED (422)', async () => {
  const jpeg = await createFixtureImage({ kind: 'noise', width: 200, height: 150, seed: 4, format: 'jpeg' });
  const png = await createFixtureImage({ kind: 'noise', width: 200, height: 150, seed: 4, format: 'png' });
  for (const mode of ['exact', 'fast'] as const) {
    await assertInputError(
      hashImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)), { mode }),
      'ETRUNCATED',
      422,
      /truncated/,
    );
    await assertInputError(
      hashImage(png.subarray(0, Math.floor(png.length / 2)), { mode }),
      'ETRUNCATED',
      422,
      /truncated/,
    );
  }
});

test('refuses a decompression bomb from its header alone, before decoding (ETOOMANYPIXELS, 413)', async () => {
  const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const bomb = setPngSize(small, 100_000, 100_000);
  const started = performance.now();
  await assertInputError(
    hashImage(bomb),
    'ETOOMANYPIXELS',
    413,
    /100000x100000 = 10000000000 pixels, over the limit of 89478485/,
  );
  // A decode of 10^10 pixels would take minutes and 30 GB; the header check answers at once.
  assert.ok(performance.now() - started < 2000);
});

test('the pixel limit is inclusive: exactly maxPixels passes, one fewer fails', async () => {
  const png = await createFixtureImage({ kind: 'gradient', width: 64, height: 48, seed: 1, format: 'png' });
  assert.match((await hashImage(png, { maxPixels: 64 * 48 })).hash, /^[0-9a-f]{16}$/);
  await assertInputError(hashImage(png, { maxPixels: 64 * 48 - 1 }), 'ETOOMANYPIXELS', 413);
  await assertInputError(hashImage(png, { mode: 'fast', maxPixels: 64 * 48 - 1 }), 'ETOOMANYPIXELS', 413);
});

test('rejects invalid options with a TypeError naming the option', async () => {
  const png = await createFixtureImage({ kind: 'flat', width: 4, height: 4, seed: 1, format: 'png' });
  await assert.rejects(
    hashImage(png, { mode: 'slow' as never }),
    /Expected the `mode` option to be exact or fast, got `slow`/,
  );
  await assert.rejects(
    hashImage(png, { maxPixels: 0 }),
    /Expected the `maxPixels` option to be a positive integer, got `0`/,
  );
});

test(`never hangs and never throws anything but ImageInputError on 300 random, truncated and corrupted \
inputs`, async () => {
  const random = createRandom(2026);
  const seeds = [
    await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 1, format: 'jpeg' }),
    await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 2, format: 'png' }),
    await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 3, format: 'png-palette' }),
    await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 4, format: 'gif' }),
    await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 5, format: 'webp-lossless' }),
  ];
  const outcomes = { hashed: 0, rejected: 0 };
  for (let i = 0; i < 300; i++) {
    const source = seeds[i % seeds.length];
    let input: Uint8Array;
    if (i % 3 === 0) {
      input = source.subarray(0, Math.floor(random() * source.length));
    } else if (i % 3 === 1) {
      input = Buffer.from(source);
      for (let k = 0; k < 1 + Math.floor(random() * 20); k++)
        input[8 + Math.floor(random() * (input.length - 8))] = Math.floor(random() * 256);
    } else {
      input = Uint8Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256));
      input.set(source.subarray(0, Math.min(input.length, Math.floor(random() * 16))));
    }
    const mode = i % 2 === 0 ? 'exact' : 'fast';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`input ${i} (${mode}) hung`)), 10_000);
    });
    try {
      const result = await Promise.race([hashImage(input, { mode }), timeout]);
      assert.match(result.hash, /^[0-9a-f]{16}$/);
      outcomes.hashed++;
    } catch (error) {
      assert.ok(error instanceof ImageInputError, `input ${i} (${mode}) threw ${String(error)}`);
      outcomes.rejected++;
    } finally {
      clearTimeout(timer);
    }
  }
  assert.equal(outcomes.hashed + outcomes.rejected, 300);
  assert.ok(outcomes.rejected > 150, `expected most inputs to be rejected, got ${JSON.stringify(outcomes)}`);
});
