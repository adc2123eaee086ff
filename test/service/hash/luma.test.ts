// Pillow's convert("L") arithmetic on literal pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLuma, convertToLuma } from '../../../src/service/hash/luma.js';

// Expected values from Pillow 9.4.0: Image.new('RGB', (10, 1)).putdata(TRIPLES); list(im.convert('L').getdata()).
// (0, 0, 5) → 1 and (250, 3, 97) → 88 tell the L24 fixed-point formula from the older (299R + 587G + 114B) / 1000.
const TRIPLES = [
  [0, 0, 0],
  [255, 255, 255],
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [0, 0, 5],
  [1, 1, 1],
  [10, 200, 30],
  [128, 64, 32],
  [250, 3, 97],
];
const PILLOW_L = [0, 255, 76, 150, 29, 1, 1, 124, 79, 88];

test('computeLuma matches Pillow on RGB triples', () => {
  assert.deepEqual(
    TRIPLES.map(([r, g, b]) => computeLuma(r, g, b)),
    PILLOW_L,
  );
});

test('convertToLuma ignores alpha on RGBA and matches RGB', () => {
  const rgba = Uint8Array.from(TRIPLES.flatMap(([r, g, b], i) => [r, g, b, (i * 61) % 256]));
  assert.deepEqual(Array.from(convertToLuma(rgba, 10, 4)), PILLOW_L);
  assert.deepEqual(Array.from(convertToLuma(Uint8Array.from(TRIPLES.flat()), 10, 3)), PILLOW_L);
});

test('convertToLuma passes L through and takes the L of LA', () => {
  const gray = Uint8Array.from([0, 7, 128, 255]);
  assert.deepEqual(Array.from(convertToLuma(gray, 4, 1)), [0, 7, 128, 255]);
  assert.deepEqual(Array.from(convertToLuma(Uint8Array.from([0, 9, 7, 0, 128, 50, 255, 255]), 4, 2)), [0, 7, 128, 255]);
});

test('convertToLuma rejects a channel count other than 1 to 4 and a short buffer', () => {
  assert.throws(() => convertToLuma(new Uint8Array(10), 2, 5), /Expected 1 to 4 channels, got 5/);
  assert.throws(() => convertToLuma(new Uint8Array(5), 2, 3), /Expected 6 bytes of pixels, got 5/);
});
