// The difference-hash rule on a 9×8 greyscale thumbnail: bit = right pixel brighter than left, row-major, MSB first.

export const DHASH_WIDTH = 9;
export const DHASH_HEIGHT = 8;

/** 72 grey values (9 wide, 8 high) → 16 lowercase hex digits, exactly as imagehash.dhash formats them. */
export function computeDhashHex(thumbnail: Uint8Array): string {
  if (thumbnail.length !== DHASH_WIDTH * DHASH_HEIGHT) {
    throw new RangeError(`Expected a ${DHASH_WIDTH}x${DHASH_HEIGHT} thumbnail (72 values), got ${thumbnail.length}.`);
  }
  let hex = '';
  for (let row = 0; row < DHASH_HEIGHT; row++) {
    // One row gives 8 bits = 2 hex digits; rows are concatenated in order, so the first bit is the most significant.
    let byte = 0;
    for (let col = 0; col < DHASH_WIDTH - 1; col++) {
      const left = thumbnail[row * DHASH_WIDTH + col];
      const right = thumbnail[row * DHASH_WIDTH + col + 1];
      byte = (byte << 1) | (right > left ? 1 : 0);
    }
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}
