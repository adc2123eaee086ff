// Multi-index layouts for HashIndex segments: which bits each table keys on, chosen by segment size, and the
// per-table search radii that keep a Hamming-radius search exact (pigeonhole over disjoint chunks).
import { countBits32 } from './hash-bits.js';

/**
 * One table: the 64-bit hash is cut into disjoint chunks (`width` bits from `start`, counted from the most
 * significant bit); the table is keyed on the chunk's first `keyBits` bits. A key may be shorter than its chunk to
 * keep buckets from getting too small for the segment's size.
 */
export interface ChunkKey {
  start: number;
  width: number;
  keyBits: number;
}

/**
 * Which code runs the candidate loop of a probe: 'native' (native/src/hash-probe.c, the CPU's popcount) or 'js'
 * (HashSegment's loop; the fallback where the addon is not built). Both find the same entries.
 */
export type ProbeKernel = 'native' | 'js';

/**
 * At and above this many entries three tables of 21/21/22-bit keys take over from four of 16. At 10M a 16-bit
 * bucket holds ~150 entries and a radius-10 query checks ~65k candidates (CPU-bound); 21-bit buckets hold ~5 and
 * it checks ~15k, but in ~3.4k random bucket reads (memory-bound). The cheaper a candidate check, the earlier the
 * three tables win. Measured on the shared 2-core machine (p95 per query, four vs three tables; bench:match prints
 * both layouts):
 * - JS kernel: 5M 0.40 vs 0.48 ms, 8M 0.44 vs 0.47, 10M 0.59 vs 0.61, 12M 0.66 vs 0.58, 15M 0.78 vs 0.65;
 * - native kernel: 1M 0.066 vs 0.122 ms, 3M 0.15 vs 0.21, 5M 0.195 vs 0.192 and 0.137 vs 0.196 (two runs), 8M
 *   0.218 vs 0.215, 10M 0.34 vs 0.26, 0.67 vs 0.22 and 0.27 vs 0.15, 12M 0.20 vs 0.17. Three tables also take 7
 *   bytes an entry less.
 */
export const LARGE_LAYOUT_MIN_ENTRIES: Readonly<Record<ProbeKernel, number>> = { native: 8_000_000, js: 11_000_000 };
/** A bucket probe (a random memory read) costs about this many candidate checks (sequential reads). */
const PROBE_COST = 24;
/** Enumerating more neighbour keys than this per table costs more than the scan it would save. */
const MAX_MASKS = 1 << 17;

/** The chunks for a segment of `size` entries. */
export function chooseLayout(size: number, largeLayoutMinEntries: number): ChunkKey[] {
  if (size >= largeLayoutMinEntries) {
    // ~5 entries per bucket: fewer probes for smaller sizes, never wider than the chunk.
    const keyBits = Math.max(4, Math.min(21, Math.round(Math.log2(size / 5))));
    return [
      { start: 0, width: 21, keyBits },
      { start: 21, width: 21, keyBits },
      { start: 42, width: 22, keyBits: keyBits + 1 },
    ];
  }
  // Four 16-bit chunks; smaller segments key on fewer bits so the offsets stay small (about 8 entries a bucket).
  const keyBits = Math.max(4, Math.min(16, Math.ceil(Math.log2(size + 1)) - 3));
  return [0, 16, 32, 48].map((start) => ({ start, width: 16, keyBits }));
}

/**
 * The radius to search in each of `chunkCount` chunks (-1: skip it). Pigeonhole, tightened: with r = m·s + t
 * (t < m), some chunk among the first t + 1 is within s bits, or some later chunk within s - 1; otherwise the
 * distance would be at least (t + 1)(s + 1) + (m - 1 - t)s = r + 1. A key of the chunk's first bits differs in no
 * more bits than the chunk, so the same radius holds for a shortened key. For r = 10 over 4 chunks this searches
 * 3×137 + 17 neighbour keys instead of 4×137.
 */
export function getChunkRadii(maxDistance: number, chunkCount = 4): number[] {
  const s = Math.floor(maxDistance / chunkCount);
  const t = maxDistance % chunkCount;
  return Array.from({ length: chunkCount }, (_, chunk) => (chunk <= t ? s : s - 1));
}

/** How many keys of `bits` bits lie within `radius` of a given key. */
export function countNeighbours(bits: number, radius: number): number {
  let total = 0;
  let binomial = 1;
  for (let k = 0; k <= Math.min(radius, bits); k++) {
    total += binomial;
    binomial = (binomial * (bits - k)) / (k + 1);
  }
  return total;
}

/**
 * The per-table radii for a search of `maxDistance` over a segment of `size` entries laid out as `chunks`, or
 * undefined when probing would cost more than scanning every entry (large radii, tiny segments).
 */
export function planProbes(chunks: readonly ChunkKey[], size: number, maxDistance: number): number[] | undefined {
  const radii = getChunkRadii(maxDistance, chunks.length);
  let cost = 0;
  for (let c = 0; c < chunks.length; c++) {
    if (radii[c] < 0) continue;
    const probes = countNeighbours(chunks[c].keyBits, radii[c]);
    if (probes > MAX_MASKS) return undefined;
    cost += probes * (PROBE_COST + size / 2 ** chunks[c].keyBits);
  }
  return cost < size ? radii : undefined;
}

const masksCache = new Map<number, Uint32Array>();

/** Every `bits`-bit value with at most `radius` bits set, fewest bits first; cached, shared by all indexes. */
export function getMasks(bits: number, radius: number): Uint32Array {
  const cacheKey = bits * 64 + radius;
  const cached = masksCache.get(cacheKey);
  if (cached) return cached;
  const masks = new Uint32Array(countNeighbours(bits, radius));
  let n = 0;
  const addFrom = (from: number, left: number, mask: number): void => {
    for (let bit = from; bit < bits; bit++) {
      masks[n++] = (mask | (1 << bit)) >>> 0;
      if (left > 1) addFrom(bit + 1, left - 1, (mask | (1 << bit)) >>> 0);
    }
  };
  masks[n++] = 0;
  if (radius > 0) addFrom(0, radius, 0);
  masks.sort((a, b) => countBits32(a) - countBits32(b) || a - b);
  masksCache.set(cacheKey, masks);
  return masks;
}

/** The 32 bits starting `from` bits below the top of the 64-bit hash `hi:lo`, wrapping around to its top. */
export function getTop32(hi: number, lo: number, from: number): number {
  const k = from & 63;
  if (k === 0) return hi >>> 0;
  if (k === 32) return lo >>> 0;
  if (k < 32) return ((hi << k) | (lo >>> (32 - k))) >>> 0;
  return ((lo << (k - 32)) | (hi >>> (64 - k))) >>> 0;
}

/** The table key of hash `hi:lo` for `chunk`. */
export function getChunkKey(hi: number, lo: number, chunk: ChunkKey): number {
  return getTop32(hi, lo, chunk.start) >>> (32 - chunk.keyBits);
}

/**
 * The 32 bits right after the key (wrapping round): none of them is a key bit, so for an entry in the bucket
 * `qKey ^ mask` they differ from the query's in at most `radius - popcount(mask)` bits. One popcount of this word
 * rejects almost every non-match before its full hash is read.
 */
export function getFilterWord(hi: number, lo: number, chunk: ChunkKey): number {
  return getTop32(hi, lo, chunk.start + chunk.keyBits);
}

/**
 * Up to 16 bits after the filter word, never reaching round into the key: all the rest of the hash for keys of
 * 16 bits or more (11 bits for a 21-bit key), a further 16 bits for shorter keys.
 */
export function getRestBits(hi: number, lo: number, chunk: ChunkKey): number {
  const restBits = Math.min(16, 32 - chunk.keyBits);
  return getTop32(hi, lo, chunk.start + chunk.keyBits + 32) >>> (32 - restBits);
}
