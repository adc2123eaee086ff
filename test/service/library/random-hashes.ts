// Test helper: seeded random 64-bit hashes and near-duplicates (k flipped bits), as 16-hex strings.
import { formatHash, parseHash } from '../../../src/service/library/hash-bits.js';
export { createRandom } from '../../helpers/images.js';

export function createRandomHash(random: () => number): string {
  return formatHash((random() * 2 ** 32) >>> 0, (random() * 2 ** 32) >>> 0);
}

/** `hash` with exactly `bits` distinct bit positions flipped. */
export function flipBits(hash: string, bits: number, random: () => number): string {
  let { hi, lo } = parseHash(hash);
  const positions = new Set<number>();
  while (positions.size < bits) positions.add(Math.floor(random() * 64));
  for (const p of positions) {
    if (p < 32) hi = (hi ^ (1 << p)) >>> 0;
    else lo = (lo ^ (1 << (p - 32))) >>> 0;
  }
  return formatHash(hi, lo);
}
