// Format sniffing from magic numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHashableFormat, sniffImageFormat } from '../../../src/service/hash/sniff-format.js';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

test('recognises each format by its signature', () => {
  assert.equal(sniffImageFormat(bytes([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
  assert.equal(sniffImageFormat(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a])), 'png');
  assert.equal(sniffImageFormat(bytes('GIF89a')), 'gif');
  assert.equal(sniffImageFormat(bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')), 'webp');
  assert.equal(sniffImageFormat(bytes('II', [0x2a, 0])), 'tiff');
  assert.equal(sniffImageFormat(bytes('MM', [0, 0x2a])), 'tiff');
  assert.equal(sniffImageFormat(bytes('%PDF-1.7')), 'pdf');
  assert.equal(sniffImageFormat(bytes([0, 0, 0, 0x1c], 'ftypavif')), 'avif');
  assert.equal(sniffImageFormat(bytes('  <svg xmlns="http://www.w3.org/2000/svg"/>')), 'svg');
});

test('returns undefined for unknown, empty and too-short data', () => {
  assert.equal(sniffImageFormat(new Uint8Array(0)), undefined);
  assert.equal(sniffImageFormat(bytes([0xff, 0xd8])), undefined);
  assert.equal(sniffImageFormat(bytes('hello world')), undefined);
  assert.equal(sniffImageFormat(bytes('RIFF', [0, 0, 0, 0], 'WAVE')), undefined);
});

test('only JPEG, PNG, GIF, WebP and TIFF are hashable', () => {
  assert.deepEqual(
    (['jpeg', 'png', 'gif', 'webp', 'tiff', 'pdf', 'svg', 'avif', 'bmp', undefined] as const).map((f) =>
      isHashableFormat(f),
    ),
    [true, true, true, true, true, false, false, false, false, false],
  );
});
