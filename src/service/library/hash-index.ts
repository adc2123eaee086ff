// In-memory multi-index hashing over 64-bit dhashes: Hamming-radius search that scales to millions of entries.
import { countBits32, parseHash } from './hash-bits.js';

export interface IndexHit {
  id: number;
  distance: number;
}

const CHUNKS = 4; // 4 × 16-bit substrings: with radius r, some substring differs in at most floor(r / 4) bits (see getChunkRadii)
const KEYS = 1 << 16;
// Beyond this per-chunk radius (r ≥ 16) enumerating neighbours costs more than scanning everything.
const MAX_CHUNK_RADIUS = 3;
const MASKS_BY_RADIUS = buildMasks(MAX_CHUNK_RADIUS);

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
    case 0: return hi >>> 16;
    case 1: return hi & 0xffff;
    case 2: return lo >>> 16;
    default: return lo & 0xffff;
  }
}

/**
 * Entries live in slots (parallel typed arrays). A compact per-chunk table (counting-sorted, hash halves
 * stored inline so verification reads memory in order) covers the entries present at the last rebuild;
 * newer ones sit in a small `delta` list scanned linearly; removals are tombstones. The table is rebuilt
 * when the delta or the tombstones grow past a fraction of the size, so updates stay cheap on average.
 * Not thread-safe; all methods are synchronous.
 */
export class HashIndex {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private ids = new Float64Array(1024);
  private alive = new Uint8Array(1024);
  private slotCount = 0;
  private readonly slotById = new Map<number, number>();
  /** Slots free for reuse: only those already dropped from the table by a rebuild. */
  private freeSlots: number[] = [];
  private removedSinceRebuild: number[] = [];
  private delta = new Int32Array(1024);
  private deltaLength = 0;
  private offsets: Uint32Array[] = [];
  private tableHi: Uint32Array[] = [];
  private tableLo: Uint32Array[] = [];
  private tableSlot: Int32Array[] = [];

  constructor() {
    this.rebuild();
  }

  get size(): number {
    return this.slotById.size;
  }

  has(id: number): boolean {
    return this.slotById.has(id);
  }

  /** Adds (or replaces) entry `id`; throws EINVALIDHASH for a malformed hash. */
  add(id: number, hash: string): void {
    this.insert(id, hash);
    this.rebuildIfWorthIt();
  }

  /** Bulk load: one rebuild at the end instead of many along the way. */
  addMany(entries: Iterable<{ id: number; hash: string }>): void {
    for (const entry of entries) this.insert(entry.id, entry.hash);
    this.rebuild();
  }

  /** Removes entry `id`; returns whether it was there. */
  remove(id: number): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this.alive[slot] = 0;
    this.slotById.delete(id);
    this.removedSinceRebuild.push(slot);
    this.rebuildIfWorthIt();
    return true;
  }

  /** Entries within `maxDistance` bits of `hash`, nearest first (ties by id), at most `limit`. */
  search(hash: string, maxDistance: number, limit = Number.POSITIVE_INFINITY): IndexHit[] {
    if (!Number.isInteger(maxDistance) || maxDistance < 0) throw new RangeError(`maxDistance must be a non-negative integer, got ${maxDistance}`);
    const q = parseHash(hash);
    const found = { ids: [] as number[], distances: [] as number[] };
    const radii = getChunkRadii(maxDistance);
    if (radii[0] > MAX_CHUNK_RADIUS) this.scanAllSlots(q.hi, q.lo, maxDistance, found);
    else {
      this.searchTable(q.hi, q.lo, maxDistance, radii, found);
      this.scanDelta(q.hi, q.lo, maxDistance, found);
    }
    const order = found.ids.map((_, i) => i);
    order.sort((a, b) => found.distances[a] - found.distances[b] || found.ids[a] - found.ids[b]);
    const count = Math.max(0, Math.min(order.length, limit));
    const hits: IndexHit[] = new Array(count);
    for (let i = 0; i < count; i++) hits[i] = { id: found.ids[order[i]], distance: found.distances[order[i]] };
    return hits;
  }

  private searchTable(qHi: number, qLo: number, radius: number, radii: number[], found: { ids: number[]; distances: number[] }): void {
    const alive = this.alive;
    for (let chunk = 0; chunk < CHUNKS; chunk++) {
      if (radii[chunk] < 0) continue;
      const masks = MASKS_BY_RADIUS[radii[chunk]];
      const offsets = this.offsets[chunk];
      const tHi = this.tableHi[chunk];
      const tLo = this.tableLo[chunk];
      const tSlot = this.tableSlot[chunk];
      const qKey = getChunkKey(qHi, qLo, chunk);
      const otherTable = chunk < 2 ? tLo : tHi;
      const otherQuery = chunk < 2 ? qLo : qHi;
      for (let m = 0; m < masks.length; m++) {
        const key = qKey ^ masks[m];
        const end = offsets[key + 1];
        for (let p = offsets[key]; p < end; p++) {
          // The half without this chunk is random for a non-match (~16 bits off), so testing it first
          // rejects almost every candidate after one popcount.
          const otherDistance = countBits32((otherTable[p] ^ otherQuery) >>> 0);
          if (otherDistance > radius) continue;
          const xHi = (tHi[p] ^ qHi) >>> 0;
          const xLo = (tLo[p] ^ qLo) >>> 0;
          const distance = countBits32(xHi) + countBits32(xLo);
          if (distance > radius || alive[tSlot[p]] === 0) continue;
          // Reported already by an earlier chunk whose key was also within the chunk radius.
          if (isFoundEarlier(xHi, xLo, chunk, radii)) continue;
          found.ids.push(this.ids[tSlot[p]]);
          found.distances.push(distance);
        }
      }
    }
  }

  private scanDelta(qHi: number, qLo: number, radius: number, found: { ids: number[]; distances: number[] }): void {
    for (let i = 0; i < this.deltaLength; i++) this.checkSlot(this.delta[i], qHi, qLo, radius, found);
  }

  private scanAllSlots(qHi: number, qLo: number, radius: number, found: { ids: number[]; distances: number[] }): void {
    for (let slot = 0; slot < this.slotCount; slot++) this.checkSlot(slot, qHi, qLo, radius, found);
  }

  private checkSlot(slot: number, qHi: number, qLo: number, radius: number, found: { ids: number[]; distances: number[] }): void {
    if (this.alive[slot] === 0) return;
    const distance = countBits32((this.hi[slot] ^ qHi) >>> 0) + countBits32((this.lo[slot] ^ qLo) >>> 0);
    if (distance <= radius) {
      found.ids.push(this.ids[slot]);
      found.distances.push(distance);
    }
  }

  private insert(id: number, hash: string): void {
    const { hi, lo } = parseHash(hash);
    if (this.slotById.has(id)) this.remove(id);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotCount++;
      if (slot >= this.hi.length) this.growSlots();
    }
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.ids[slot] = id;
    this.alive[slot] = 1;
    this.slotById.set(id, slot);
    if (this.deltaLength >= this.delta.length) this.delta = grow(this.delta, this.delta.length * 2);
    this.delta[this.deltaLength++] = slot;
  }

  private growSlots(): void {
    const capacity = this.hi.length * 2;
    this.hi = grow(this.hi, capacity);
    this.lo = grow(this.lo, capacity);
    this.ids = grow(this.ids, capacity);
    this.alive = grow(this.alive, capacity);
  }

  private rebuildIfWorthIt(): void {
    const live = this.slotById.size;
    if (this.deltaLength > Math.max(1024, live >>> 5) || this.removedSinceRebuild.length > Math.max(1024, live >>> 3)) this.rebuild();
  }

  /** Counting sort of the live slots by each chunk key: O(n) per chunk. */
  private rebuild(): void {
    const live = new Int32Array(this.slotById.size);
    let n = 0;
    for (let slot = 0; slot < this.slotCount; slot++) if (this.alive[slot] === 1) live[n++] = slot;
    const keys = new Uint16Array(n);
    for (let chunk = 0; chunk < CHUNKS; chunk++) {
      const words = chunk < 2 ? this.hi : this.lo;
      const shift = chunk % 2 === 0 ? 16 : 0;
      const offsets = new Uint32Array(KEYS + 1);
      for (let i = 0; i < n; i++) {
        const key = (words[live[i]] >>> shift) & 0xffff;
        keys[i] = key;
        offsets[key + 1]++;
      }
      for (let k = 0; k < KEYS; k++) offsets[k + 1] += offsets[k];
      const cursor = offsets.slice(0, KEYS);
      const tHi = new Uint32Array(n);
      const tLo = new Uint32Array(n);
      const tSlot = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const slot = live[i];
        const p = cursor[keys[i]]++;
        tHi[p] = this.hi[slot];
        tLo[p] = this.lo[slot];
        tSlot[p] = slot;
      }
      this.offsets[chunk] = offsets;
      this.tableHi[chunk] = tHi;
      this.tableLo[chunk] = tLo;
      this.tableSlot[chunk] = tSlot;
    }
    for (const slot of this.removedSinceRebuild) this.freeSlots.push(slot);
    this.removedSinceRebuild = [];
    this.deltaLength = 0;
  }
}

function isFoundEarlier(xHi: number, xLo: number, chunk: number, radii: number[]): boolean {
  for (let c = 0; c < chunk; c++) if (countBits32(getChunkKey(xHi, xLo, c)) <= radii[c]) return true;
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

function grow<T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  return next;
}
