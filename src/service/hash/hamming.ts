// Hamming distance between 64-bit hashes, as 16-hex strings or as BigInts.

const HASH_PATTERN = /^[0-9a-f]{16}$/;

export function isHashString(value: unknown): value is string {
  return typeof value === 'string' && HASH_PATTERN.test(value);
}

/** Number of differing bits; throws a TypeError naming the bad value when either is not 16 lowercase hex. */
export function hammingDistance(a: string, b: string): number {
  if (!isHashString(a)) throw new TypeError(`Expected a hash of 16 lowercase hex digits, got \`${String(a)}\`.`);
  if (!isHashString(b)) throw new TypeError(`Expected a hash of 16 lowercase hex digits, got \`${String(b)}\`.`);
  // Two 32-bit halves keep this in fast small-integer arithmetic (no BigInt allocation).
  const high = (parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0;
  const low = (parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0;
  return countBits32(high) + countBits32(low);
}

export function hammingDistanceBigInt(a: bigint, b: bigint): number {
  const x = a ^ b;
  return countBits32(Number(x & 0xffffffffn)) + countBits32(Number((x >> 32n) & 0xffffffffn));
}

export function countBits32(value: number): number {
  let v = value >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

export function parseHashBigInt(hash: string): bigint {
  if (!isHashString(hash)) throw new TypeError(`Expected a hash of 16 lowercase hex digits, got \`${String(hash)}\`.`);
  return BigInt(`0x${hash}`);
}

export function formatHashBigInt(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}
