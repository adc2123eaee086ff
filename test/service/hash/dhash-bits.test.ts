// The dhash bit rule and hex layout, on literal thumbnails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDhashHex } from '../../../src/service/hash/dhash-bits.js';

const fromRows = (rows: number[][]) => Uint8Array.from(rows.flat());

test('a flat thumbnail hashes to all zeros (equal is not brighter)', () => {
  assert.equal(computeDhashHex(new Uint8Array(72).fill(9)), '0000000000000000');
});

test('a left-to-right ramp hashes to all ones', () => {
  assert.equal(
    computeDhashHex(fromRows(Array.from({ length: 8 }, () => [0, 1, 2, 3, 4, 5, 6, 7, 8]))),
    'ffffffffffffffff',
  );
});

test('the first comparison of the first row is the most significant bit, rows follow in order', () => {
  const rows = Array.from({ length: 8 }, () => new Array(9).fill(0));
  rows[0][1] = 1; // row 0: right > left only at column 0 → bit 63
  rows[7][8] = 1; // row 7: only the last comparison → bit 0
  assert.equal(computeDhashHex(fromRows(rows)), '8000000000000001');
  const second = Array.from({ length: 8 }, () => new Array(9).fill(5));
  second[1][0] = 4; // row 1 column 0: 5 > 4 → the top bit of the second byte
  assert.equal(computeDhashHex(fromRows(second)), '0080000000000000');
});

test('rejects a thumbnail that is not 9x8', () => {
  assert.throws(() => computeDhashHex(new Uint8Array(64)), /Expected a 9x8 thumbnail \(72 values\), got 64/);
});
