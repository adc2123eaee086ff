// In-memory multi-index hashing over 64-bit dhashes:
// Hamming-radius search that scales to ten million entries in typed arrays.
import { countBits32, parseHash } from './hash-bits.js';

export interface IndexHit {
  id: number;
  distance: number;
}

// 4 × 16-bit substrings: with radius r, some substring differs in at most floor(r / 4) bits (see getChunkRadii)
const CHUNKS = 4;
const KEYS = 1 << 16;
// Beyond this per-chunk radius (r ≥ 16) enumerating neighbours costs more than scanning everything.
const MAX_CHUNK_RADIUS = 3;
const MASKS_BY_RADIUS = buildMasks(MAX_CHUNK_RADIUS);
/** Bits set in each 16-bit value: two lookups count a 32-bit word faster than the SWAR sum on the hot path. */
const BITS_16 = Uint8Array.from({ length: KEYS }, (_, v) => countBits32(v));

function buildMasks(maxRadius: number): Uint16Array[] {
  const byRadius: Uint16Array[] = [];
  for (let s = 0; s <= maxRadius; s++) {
    const masks: number[] = [];
    for (let m = 0; m < KEYS; m++) if (countBits32(m) <= s) masks.push(m);
    byRadius.push(Uint16Array.from(masks));
  }
  return byRadius;
}

function getChunkKey(hi: number, lo: number, chunk: number): number {
  switch (chunk) {
    case 0:
      return hi >>> 16;
    case 1:
      return hi & 0xffff;
    case 2:
      return lo >>> 16;
    default:
      return lo & 0xffff;
  }
}

interface Found {
  ids: number[];
  distances: number[];
}

/**
 * One CSR table per chunk: entries counting-sorted by that chunk's key,
 * hash halves inline so a probe reads memory in order.
 */
interface ChunkTable {
  offsets: Uint32Array;
  hi: Uint32Array;
  lo: Uint32Array;
  /** Position of the entry in the base arrays. */
  base: Int32Array;
}

/**
 * The entries present at the last rebuild form the `base`: parallel typed arrays sorted by id (so an id is found
 * by binary search, no Map per entry) plus four chunk tables. Entries added since sit in a small `delta` scanned
 * linearly; removals from the base are tombstones. The base is rebuilt when the delta or the tombstones grow past
 * a fraction of the size, so updates stay cheap on average. About 65 bytes per entry: 17 in the base, 4 × 12 in
 * the tables. Not thread-safe; all methods are synchronous.
 */
export class HashIndex {
  private baseIds: Float64Array = new Float64Array(0);
  private baseHi: Uint32Array = new Uint32Array(0);
  private baseLo: Uint32Array = new Uint32Array(0);
  private baseAlive = new Uint8Array(0);
  private baseDead = 0;
  private tables: ChunkTable[] = [];
  /** id → position in the delta arrays. */
  private readonly deltaById = new Map<number, number>();
  private deltaIds: Float64Array = new Float64Array(64);
  private deltaHi: Uint32Array = new Uint32Array(64);
  private deltaLo: Uint32Array = new Uint32Array(64);

  constructor() {
    this.buildTables();
  }

  get size(): number {
    return this.baseIds.length - this.baseDead + this.deltaById.size;
  }

  has(id: number): boolean {
    return this.deltaById.has(id) || this.findAliveBase(id) >= 0;
  }

  /** Adds (or replaces) entry `id`; throws EINVALIDHASH for a malformed hash. */
  add(id: number, hash: string): void {
    const { hi, lo } = parseHash(hash);
    this.insert(id, hi, lo);
    this.rebuildIfWorthIt();
  }

  /** Bulk load: one rebuild at the end instead of many along the way; a later duplicate id replaces an earlier one. */
  addMany(entries: Iterable<{ id: number; hash: string }>): void {
    let ids = new Float64Array(1024);
    let his = new Uint32Array(1024);
    let los = new Uint32Array(1024);
    let n = 0;
    for (const entry of entries) {
      const { hi, lo } = parseHash(entry.hash);
      if (n === ids.length) [ids, his, los] = [grow(ids, n * 2), grow(his, n * 2), grow(los, n * 2)];
      ids[n] = entry.id;
      his[n] = hi;
      los[n] = lo;
      n++;
    }
    this.addHalves(ids.slice(0, n), his.slice(0, n), los.slice(0, n));
  }

  /**
   * Bulk load from parallel arrays (id, upper and lower 32 bits of the hash), the start-up path: no strings, no
   * per-entry objects. Already sorted unique ids (SQLite's rowid order) skip the sort, and an empty index then
   * keeps the arrays themselves: the caller hands them over and must not change them afterwards.
   */
  addHalves(ids: Float64Array, hi: Uint32Array, lo: Uint32Array): void {
    if (ids.length !== hi.length || ids.length !== lo.length)
      throw new RangeError('ids, hi and lo must have the same length');
    if (this.size === 0) {
      this.setBase(ids, hi, lo);
      return;
    }
    // Existing entries first, then the new ones, so the new ones win on a duplicate id.
    const existing = this.collectLive();
    const count = existing.ids.length + ids.length;
    const allIds = new Float64Array(count);
    const allHi = new Uint32Array(count);
    const allLo = new Uint32Array(count);
    allIds.set(existing.ids);
    allIds.set(ids, existing.ids.length);
    allHi.set(existing.hi);
    allHi.set(hi, existing.ids.length);
    allLo.set(existing.lo);
    allLo.set(lo, existing.ids.length);
    this.setBase(allIds, allHi, allLo);
  }

  /** Removes entry `id`; returns whether it was there. */
  remove(id: number): boolean {
    if (this.removeFromDelta(id)) return true;
    const at = this.findAliveBase(id);
    if (at < 0) return false;
    this.baseAlive[at] = 0;
    this.baseDead++;
    this.rebuildIfWorthIt();
    return true;
  }

  /** Entries within `maxDistance` bits of `hash`, nearest first (ties by id), at most `limit`. */
  search(hash: string, maxDistance: number, limit = Number.POSITIVE_INFINITY): IndexHit[] {
    if (!Number.isInteger(maxDistance) || maxDistance < 0)
      throw new RangeError(`maxDistance must be a non-negative integer, got ${maxDistance}`);
    const q = parseHash(hash);
    const found: Found = { ids: [], distances: [] };
    const radii = getChunkRadii(maxDistance);
    if (radii[0] > MAX_CHUNK_RADIUS) this.scanBase(q.hi, q.lo, maxDistance, found);
    else this.searchTables(q.hi, q.lo, maxDistance, radii, found);
    this.scanDelta(q.hi, q.lo, maxDistance, found);
    const order = found.ids.map((_, i) => i);
    order.sort((a, b) => found.distances[a] - found.distances[b] || found.ids[a] - found.ids[b]);
    const count = Math.max(0, Math.min(order.length, limit));
    const hits: IndexHit[] = new Array(count);
    for (let i = 0; i < count; i++) hits[i] = { id: found.ids[order[i]], distance: found.distances[order[i]] };
    return hits;
  }

  private searchTables(qHi: number, qLo: number, radius: number, radii: number[], found: Found): void {
    const alive = this.baseAlive;
    const baseIds = this.baseIds;
    for (let chunk = 0; chunk < CHUNKS; chunk++) {
      if (radii[chunk] < 0) continue;
      const masks = MASKS_BY_RADIUS[radii[chunk]];
      const { offsets, hi: tHi, lo: tLo, base: tBase } = this.tables[chunk];
      const qKey = getChunkKey(qHi, qLo, chunk);
      const otherTable = chunk < 2 ? tLo : tHi;
      const otherQuery = chunk < 2 ? qLo : qHi;
      for (let m = 0; m < masks.length; m++) {
        const key = qKey ^ masks[m];
        // This chunk's key is masks[m]'s bits away already: the other half may differ in the rest only.
        const otherLimit = radius - BITS_16[masks[m]];
        const end = offsets[key + 1];
        for (let p = offsets[key]; p < end; p++) {
          // The half without this chunk is random for a non-match (~16 bits off), so testing it first
          // rejects almost every candidate after one popcount (table lookups: measured 2.3× faster here than
          // countBits32 at 10M entries).
          const other = otherTable[p] ^ otherQuery;
          if (BITS_16[other & 0xffff] + BITS_16[other >>> 16] > otherLimit) continue;
          const xHi = (tHi[p] ^ qHi) >>> 0;
          const xLo = (tLo[p] ^ qLo) >>> 0;
          const distance = BITS_16[xHi & 0xffff] + BITS_16[xHi >>> 16] + BITS_16[xLo & 0xffff] + BITS_16[xLo >>> 16];
          if (distance > radius || alive[tBase[p]] === 0) continue;
          // Reported already by an earlier chunk whose key was also within the chunk radius.
          if (isFoundEarlier(xHi, xLo, chunk, radii)) continue;
          found.ids.push(baseIds[tBase[p]]);
          found.distances.push(distance);
        }
      }
    }
  }

  private scanBase(qHi: number, qLo: number, radius: number, found: Found): void {
    for (let i = 0; i < this.baseIds.length; i++) {
      if (this.baseAlive[i] === 0) continue;
      const distance = countBits32((this.baseHi[i] ^ qHi) >>> 0) + countBits32((this.baseLo[i] ^ qLo) >>> 0);
      if (distance <= radius) {
        found.ids.push(this.baseIds[i]);
        found.distances.push(distance);
      }
    }
  }

  private scanDelta(qHi: number, qLo: number, radius: number, found: Found): void {
    const n = this.deltaById.size;
    for (let i = 0; i < n; i++) {
      const distance = countBits32((this.deltaHi[i] ^ qHi) >>> 0) + countBits32((this.deltaLo[i] ^ qLo) >>> 0);
      if (distance <= radius) {
        found.ids.push(this.deltaIds[i]);
        found.distances.push(distance);
      }
    }
  }

  /** Binary search of the sorted base ids; the position when present and not removed, else -1. */
  private findAliveBase(id: number): number {
    const ids = this.baseIds;
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = ids[mid];
      if (value === id) return this.baseAlive[mid] === 1 ? mid : -1;
      if (value < id) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  private insert(id: number, hi: number, lo: number): void {
    const existing = this.deltaById.get(id);
    if (existing !== undefined) {
      this.deltaHi[existing] = hi;
      this.deltaLo[existing] = lo;
      return;
    }
    const at = this.findAliveBase(id);
    if (at >= 0) {
      this.baseAlive[at] = 0;
      this.baseDead++;
    }
    const n = this.deltaById.size;
    if (n === this.deltaIds.length) {
      this.deltaIds = grow(this.deltaIds, n * 2);
      this.deltaHi = grow(this.deltaHi, n * 2);
      this.deltaLo = grow(this.deltaLo, n * 2);
    }
    this.deltaIds[n] = id;
    this.deltaHi[n] = hi;
    this.deltaLo[n] = lo;
    this.deltaById.set(id, n);
  }

  /** Swap-remove: the last delta entry takes the removed one's place. */
  private removeFromDelta(id: number): boolean {
    const at = this.deltaById.get(id);
    if (at === undefined) return false;
    const last = this.deltaById.size - 1;
    this.deltaById.delete(id);
    if (at !== last) {
      this.deltaIds[at] = this.deltaIds[last];
      this.deltaHi[at] = this.deltaHi[last];
      this.deltaLo[at] = this.deltaLo[last];
      this.deltaById.set(this.deltaIds[at], at);
    }
    return true;
  }

  private rebuildIfWorthIt(): void {
    const live = this.size;
    if (this.deltaById.size > Math.max(1024, live >>> 5) || this.baseDead > Math.max(1024, live >>> 3)) {
      const { ids, hi, lo } = this.collectLive();
      this.setBase(ids, hi, lo);
    }
  }

  /** Every live entry, base and delta, as parallel arrays (not necessarily sorted). */
  private collectLive(): { ids: Float64Array; hi: Uint32Array; lo: Uint32Array } {
    const n = this.size;
    const ids = new Float64Array(n);
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    let k = 0;
    for (let i = 0; i < this.baseIds.length; i++) {
      if (this.baseAlive[i] === 0) continue;
      ids[k] = this.baseIds[i];
      hi[k] = this.baseHi[i];
      lo[k] = this.baseLo[i];
      k++;
    }
    const deltaCount = this.deltaById.size;
    ids.set(this.deltaIds.subarray(0, deltaCount), k);
    hi.set(this.deltaHi.subarray(0, deltaCount), k);
    lo.set(this.deltaLo.subarray(0, deltaCount), k);
    return { ids, hi, lo };
  }

  /** Makes these entries the whole index: sorted by id (a later duplicate wins), delta emptied, tables rebuilt. */
  private setBase(ids: Float64Array, hi: Uint32Array, lo: Uint32Array): void {
    const sorted = sortById(ids, hi, lo);
    this.baseIds = sorted.ids;
    this.baseHi = sorted.hi;
    this.baseLo = sorted.lo;
    this.baseAlive = new Uint8Array(sorted.ids.length).fill(1);
    this.baseDead = 0;
    this.deltaById.clear();
    if (this.deltaIds.length > 4096)
      [this.deltaIds, this.deltaHi, this.deltaLo] = [new Float64Array(64), new Uint32Array(64), new Uint32Array(64)];
    this.buildTables();
  }

  /** Counting sort of the base by each chunk key: O(n) per chunk. */
  private buildTables(): void {
    const n = this.baseIds.length;
    const keys = new Uint16Array(n);
    this.tables = [];
    for (let chunk = 0; chunk < CHUNKS; chunk++) {
      const words = chunk < 2 ? this.baseHi : this.baseLo;
      const shift = chunk % 2 === 0 ? 16 : 0;
      const offsets = new Uint32Array(KEYS + 1);
      for (let i = 0; i < n; i++) {
        const key = (words[i] >>> shift) & 0xffff;
        keys[i] = key;
        offsets[key + 1]++;
      }
      for (let k = 0; k < KEYS; k++) offsets[k + 1] += offsets[k];
      const cursor = offsets.slice(0, KEYS);
      const table: ChunkTable = { offsets, hi: new Uint32Array(n), lo: new Uint32Array(n), base: new Int32Array(n) };
      for (let i = 0; i < n; i++) {
        const p = cursor[keys[i]]++;
        table.hi[p] = this.baseHi[i];
        table.lo[p] = this.baseLo[i];
        table.base[p] = i;
      }
      this.tables.push(table);
    }
  }
}

/** The inputs themselves when already strictly increasing, else sorted copies; of equal ids the last one is kept. */
function sortById(
  ids: Float64Array,
  hi: Uint32Array,
  lo: Uint32Array,
): { ids: Float64Array; hi: Uint32Array; lo: Uint32Array } {
  let isSorted = true;
  for (let i = 1; i < ids.length && isSorted; i++) isSorted = ids[i - 1] < ids[i];
  if (isSorted) return { ids, hi, lo };
  const order = new Int32Array(ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // Ties by position, so "last one wins" below is well defined.
  order.sort((a, b) => ids[a] - ids[b] || a - b);
  let n = 0;
  for (let i = 0; i < order.length; i++)
    if (i === order.length - 1 || ids[order[i]] !== ids[order[i + 1]]) order[n++] = order[i];
  const out = { ids: new Float64Array(n), hi: new Uint32Array(n), lo: new Uint32Array(n) };
  for (let i = 0; i < n; i++) {
    out.ids[i] = ids[order[i]];
    out.hi[i] = hi[order[i]];
    out.lo[i] = lo[order[i]];
  }
  return out;
}

function isFoundEarlier(xHi: number, xLo: number, chunk: number, radii: number[]): boolean {
  for (let c = 0; c < chunk; c++) if (BITS_16[getChunkKey(xHi, xLo, c)] <= radii[c]) return true;
  return false;
}

/**
 * The radius to search in each chunk (-1: skip it). Pigeonhole, tightened: with r = 4s + t (t < 4), some
 * chunk among the first t + 1 is within s bits, or some later chunk within s - 1; otherwise the distance
 * would be at least (t + 1)(s + 1) + (3 - t)s = r + 1. For r = 10 this searches 3×137 + 17 neighbour keys
 * instead of 4×137.
 */
export function getChunkRadii(maxDistance: number): number[] {
  const s = Math.floor(maxDistance / CHUNKS);
  const t = maxDistance % CHUNKS;
  return Array.from({ length: CHUNKS }, (_, chunk) => (chunk <= t ? s : s - 1));
}

function grow<T extends Uint32Array | Float64Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array.subarray(0, Math.min(array.length, capacity)));
  return next;
}
