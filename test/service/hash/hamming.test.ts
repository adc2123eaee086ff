// Hamming distance between 64-bit hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  countBits32,
  formatHashBigInt,
  hammingDistance,
  hammingDistanceBigInt,
  parseHashBigInt,
} from '../../../src/service/hash/hamming.js';

test('counts differing bits across both 32-bit halves', () => {
  assert.equal(hammingDistance('0000000000000000', '0000000000000000'), 0);
  assert.equal(hammingDistance('0000000000000000', 'ffffffffffffffff'), 64);
  assert.equal(hammingDistance('8000000000000001', '0000000000000000'), 2);
  assert.equal(hammingDistance('00000000ffffffff', 'ffffffff00000000'), 64);
  assert.equal(hammingDistance('0123456789abcdef', '0123456789abcdee'), 1);
});

test('the BigInt variant agrees with the string variant', () => {
  const pairs = [
    ['0123456789abcdef', 'fedcba9876543210'],
    ['ffffffffffffffff', '7fffffffffffffff'],
    ['00000000ffffffff', '0000000000000000'],
  ];
  for (const [a, b] of pairs)
    assert.equal(hammingDistanceBigInt(parseHashBigInt(a), parseHashBigInt(b)), hammingDistance(a, b));
  assert.equal(formatHashBigInt(parseHashBigInt('000000000000abcd')), '000000000000abcd');
});

test('countBits32 counts the sign bit too', () => {
  assert.equal(countBits32(0x80000000), 1);
  assert.equal(countBits32(0xffffffff), 32);
  assert.equal(countBits32(0), 0);
});

test('rejects a hash that is not 16 lowercase hex digits, naming it', () => {
  assert.throws(() => hammingDistance('ABCDEF0123456789', '0000000000000000'), /got `ABCDEF0123456789`/);
  assert.throws(() => hammingDistance('0000000000000000', '000'), /16 lowercase hex digits, got `000`/);
});
