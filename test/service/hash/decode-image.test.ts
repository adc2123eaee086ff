// Decoding details that must follow Pillow: CMYK arithmetic and header-only refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { convertCmykToRgb, decodeFullPixels, readImageHeader } from '../../../src/service/hash/decode-image.js';
import { createFixtureImage } from '../../helpers/images.js';

test("converts CMYK to RGB with Pillow's arithmetic (no colour profile)", () => {
  // Expected from Pillow 9.4.0: Image.open(cmyk_jpeg) pixels (142, 87, 1, 76) and (159, 105, 1, 82)
  // became (79, 118, 178) and (65, 102, 172) under convert("RGB").
  const cmyk = Uint8Array.from([142, 87, 1, 76, 159, 105, 1, 82, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255]);
  assert.deepEqual(Array.from(convertCmykToRgb(cmyk)), [79, 118, 178, 65, 102, 172, 255, 255, 255, 0, 0, 0, 0, 0, 0]);
});

test('decodes a CMYK JPEG to the CMYK values Pillow reads, then to RGB', async () => {
  const base = await createFixtureImage({ kind: 'photo', width: 40, height: 30, seed: 8, format: 'png' });
  const jpeg = await sharp(base).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  const header = await readImageHeader(jpeg);
  assert.equal(header.space, 'cmyk');
  const decoded = await decodeFullPixels(jpeg, header);
  assert.equal(decoded.channels, 3);
  const { data: rawCmyk } = await sharp(jpeg, { ignoreIcc: true })
    .pipelineColourspace('cmyk')
    .toColourspace('cmyk')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual(Array.from(decoded.data), Array.from(convertCmykToRgb(rawCmyk)));
});

test('reads the format and size from the header', async () => {
  const gif = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#f00' } })
    .gif()
    .toBuffer();
  const header = await readImageHeader(gif);
  assert.deepEqual(
    { format: header.format, width: header.width, height: header.height },
    { format: 'gif', width: 20, height: 10 },
  );
});
