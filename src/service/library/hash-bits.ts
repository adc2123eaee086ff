// 64-bit dhash values as two uint32 halves: parsing, formatting and popcount without BigInt on the hot path.
import { createError } from '../../lib/errors.js';

const HASH_PATTERN = /^[0-9a-f]{16}$/;

export interface HashHalves {
  hi: number;
  lo: number;
}

export function isValidHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_PATTERN.test(value.toLowerCase());
}

/** Lower-cases and validates; throws EINVALIDHASH naming `field` otherwise. */
export function normalizeHash(value: unknown, field = 'hash'): string {
  if (!isValidHash(value)) throw createError('EINVALIDHASH', { field, actual: value });
  return value.toLowerCase();
}

/** Parses and validates in one pass: loading a million-entry library at start-up goes through here. */
export function parseHash(value: unknown, field = 'hash'): HashHalves {
  if (typeof value === 'string' && value.length === 16) {
    const hi = parseHexWord(value, 0);
    const lo = parseHexWord(value, 8);
    if (hi >= 0 && lo >= 0) return { hi, lo };
  }
  throw createError('EINVALIDHASH', { field, actual: value });
}

/** Eight hex digits at `start` as an unsigned 32-bit number; -1 on any other character. */
function parseHexWord(text: string, start: number): number {
  let word = 0;
  for (let i = start; i < start + 8; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if (c >= 97 && c <= 102) digit = c - 87;
    else if (c >= 65 && c <= 70) digit = c - 55;
    else return -1;
    word = word * 16 + digit;
  }
  return word;
}

export function formatHash(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

export function countBits32(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function getHammingDistance(a: HashHalves, b: HashHalves): number {
  return countBits32((a.hi ^ b.hi) >>> 0) + countBits32((a.lo ^ b.lo) >>> 0);
}
