// In-memory multi-index hashing over 64-bit dhashes:
// Hamming-radius search that scales to ten million entries in typed arrays.
import { parseHash } from './hash-bits.js';
import { getDefaultProbeKernel, HashSegment, scanEntries, type Found } from './hash-index-segment.js';
import { createRun, filterRun, mergeRuns, sortRun, type EntryRun } from './hash-index-runs.js';
import { chooseLayout, LARGE_LAYOUT_MIN_ENTRIES, type ProbeKernel } from './hash-index-layout.js';

export { getChunkRadii } from './hash-index-layout.js';

export interface IndexHit {
  id: number;
  distance: number;
}

/** Tuning, for tests and the bench: the defaults are the measured choices. */
export interface HashIndexOptions {
  /** Segments this large use three tables of 21/21/22-bit keys instead of four of 16 (default: the kernel's). */
  largeLayoutMinEntries?: number;
  /** Adds kept in the linearly scanned tail before it becomes a segment. */
  tailLimit?: number;
  /** The probe's candidate loop: native where the addon is built (the default), else JS. */
  kernel?: ProbeKernel;
}

/**
 * Entries added one by one wait in the tail, scanned linearly, until they fill it: 32k cost ~25 µs a query, about
 * what probing one small segment costs (measured at 10M: 100k adds left a 98k segment and the tail, +0-60 µs).
 */
const TAIL_LIMIT = 32_768;
/** A segment is merged into the one before it once it holds a quarter as many entries: at most ~7 at 10M. */
const MERGE_RATIO = 4;
/** A segment is compacted once this fraction of it is tombstones. */
const DEAD_FRACTION = 1 / 8;
const DEAD_MIN = 1024;

/**
 * Entries live in a few immutable segments (see HashSegment: sorted by id, multi-index tables laid out for the
 * segment's size, removals as tombstones) plus a tail of recent adds. A full tail becomes a new segment, and a
 * segment is merged with the one before it once it grows to a quarter of its size, so a run of adds at runtime
 * (the service, the index-sync feed) costs O(log n) rebuilt entries each, and a search visits the big segment, a
 * few small ones and at most 32k tail entries: never a delta of n/32 scanned linearly, nor a full rebuild every
 * n/32 adds. About 50 bytes per entry at 10M (57 in four tables). Not thread-safe; all methods are synchronous.
 */
export class HashIndex {
  /** Oldest (and largest) first. */
  private segments: HashSegment[] = [];
  /** id → position in the tail arrays. */
  private readonly tailById = new Map<number, number>();
  private tailIds: Float64Array = new Float64Array(64);
  private tailHi: Uint32Array = new Uint32Array(64);
  private tailLo: Uint32Array = new Uint32Array(64);
  private readonly largeLayoutMinEntries: number;
  private readonly tailLimit: number;
  readonly kernel: ProbeKernel;

  constructor(options: HashIndexOptions = {}) {
    this.kernel = options.kernel ?? getDefaultProbeKernel();
    if (this.kernel === 'native' && getDefaultProbeKernel() !== 'native')
      throw new Error('the native probe kernel is not built: run `npm run build:native` (needs libjpeg62-turbo-dev)');
    this.largeLayoutMinEntries = options.largeLayoutMinEntries ?? LARGE_LAYOUT_MIN_ENTRIES[this.kernel];
    this.tailLimit = options.tailLimit ?? TAIL_LIMIT;
  }

  get size(): number {
    let live = this.tailById.size;
    for (const segment of this.segments) live += segment.liveCount;
    return live;
  }

  /** Bytes held in typed arrays: every segment's entries and tables, and the tail. */
  get byteLength(): number {
    let bytes = this.tailIds.byteLength + this.tailHi.byteLength + this.tailLo.byteLength;
    for (const segment of this.segments) bytes += segment.byteLength;
    return bytes;
  }

  has(id: number): boolean {
    return this.tailById.has(id) || this.segments.some((segment) => segment.findAlive(id) >= 0);
  }

  /** Adds (or replaces) entry `id`; throws EINVALIDHASH for a malformed hash. */
  add(id: number, hash: string): void {
    const { hi, lo } = parseHash(hash);
    const existing = this.tailById.get(id);
    if (existing !== undefined) {
      this.tailHi[existing] = hi;
      this.tailLo[existing] = lo;
      return;
    }
    this.removeFromSegments(id);
    this.appendToTail(id, hi, lo);
    if (this.tailById.size >= this.tailLimit) this.flushTail();
  }

  /** Bulk load: one rebuild at the end instead of many along the way; a later duplicate id replaces an earlier one. */
  addMany(entries: Iterable<{ id: number; hash: string }>): void {
    let run = createRun(1024);
    let n = 0;
    for (const entry of entries) {
      const { hi, lo } = parseHash(entry.hash);
      if (n === run.ids.length) run = { ids: grow(run.ids, n * 2), hi: grow(run.hi, n * 2), lo: grow(run.lo, n * 2) };
      run.ids[n] = entry.id;
      run.hi[n] = hi;
      run.lo[n] = lo;
      n++;
    }
    this.addHalves(run.ids.slice(0, n), run.hi.slice(0, n), run.lo.slice(0, n));
  }

  /**
   * Bulk load from parallel arrays (id, upper and lower 32 bits of the hash), the start-up path: no strings, no
   * per-entry objects. Already sorted unique ids (SQLite's rowid order) skip the sort, and an empty index then
   * keeps the arrays themselves: the caller hands them over and must not change them afterwards. The index is
   * rebuilt as one segment.
   */
  addHalves(ids: Float64Array, hi: Uint32Array, lo: Uint32Array): void {
    if (ids.length !== hi.length || ids.length !== lo.length)
      throw new RangeError('ids, hi and lo must have the same length');
    const added = sortRun({ ids, hi, lo });
    const all = this.size === 0 ? added : mergeRuns(this.collectLive(), added);
    this.segments = all.ids.length === 0 ? [] : [this.createSegment(all)];
    this.clearTail();
  }

  /** Removes entry `id`; returns whether it was there. */
  remove(id: number): boolean {
    return this.removeFromTail(id) || this.removeFromSegments(id);
  }

  /** Entries within `maxDistance` bits of `hash`, nearest first (ties by id), at most `limit`. */
  search(hash: string, maxDistance: number, limit = Number.POSITIVE_INFINITY): IndexHit[] {
    if (!Number.isInteger(maxDistance) || maxDistance < 0)
      throw new RangeError(`maxDistance must be a non-negative integer, got ${maxDistance}`);
    const q = parseHash(hash);
    const found: Found = { ids: [], distances: [] };
    for (const segment of this.segments) segment.search(q.hi, q.lo, maxDistance, found);
    this.scanTail(q.hi, q.lo, maxDistance, found);
    const order = found.ids.map((_, i) => i);
    order.sort((a, b) => found.distances[a] - found.distances[b] || found.ids[a] - found.ids[b]);
    const count = Math.max(0, Math.min(order.length, limit));
    const hits: IndexHit[] = new Array(count);
    for (let i = 0; i < count; i++) hits[i] = { id: found.ids[order[i]], distance: found.distances[order[i]] };
    return hits;
  }

  private scanTail(qHi: number, qLo: number, radius: number, found: Found): void {
    const tail = { ids: this.tailIds, hi: this.tailHi, lo: this.tailLo };
    scanEntries(tail, this.tailById.size, undefined, qHi, qLo, radius, found);
  }

  /** Tombstones `id` in the segment holding it; compacts that segment when tombstones pile up. */
  private removeFromSegments(id: number): boolean {
    for (let s = 0; s < this.segments.length; s++) {
      const segment = this.segments[s];
      const at = segment.findAlive(id);
      if (at < 0) continue;
      segment.kill(at);
      if (segment.dead > Math.max(DEAD_MIN, segment.ids.length * DEAD_FRACTION)) {
        const live = filterRun(segment, segment.alive, segment.liveCount);
        if (live.ids.length === 0) this.segments.splice(s, 1);
        else this.segments[s] = this.createSegment(live);
        this.mergeSmallSegments();
      }
      return true;
    }
    return false;
  }

  private appendToTail(id: number, hi: number, lo: number): void {
    const n = this.tailById.size;
    if (n === this.tailIds.length) {
      this.tailIds = grow(this.tailIds, n * 2);
      this.tailHi = grow(this.tailHi, n * 2);
      this.tailLo = grow(this.tailLo, n * 2);
    }
    this.tailIds[n] = id;
    this.tailHi[n] = hi;
    this.tailLo[n] = lo;
    this.tailById.set(id, n);
  }

  /** Swap-remove: the last tail entry takes the removed one's place. */
  private removeFromTail(id: number): boolean {
    const at = this.tailById.get(id);
    if (at === undefined) return false;
    const last = this.tailById.size - 1;
    this.tailById.delete(id);
    if (at !== last) {
      this.tailIds[at] = this.tailIds[last];
      this.tailHi[at] = this.tailHi[last];
      this.tailLo[at] = this.tailLo[last];
      this.tailById.set(this.tailIds[at], at);
    }
    return true;
  }

  /** The tail becomes the newest segment; then small segments are merged. */
  private flushTail(): void {
    const tail = sortRun(this.getTailRun());
    this.clearTail();
    this.segments.push(this.createSegment(tail));
    this.mergeSmallSegments();
  }

  /** Merges the newest segment into the one before it while it holds at least 1/MERGE_RATIO as many entries. */
  private mergeSmallSegments(): void {
    const segments = this.segments;
    while (segments.length >= 2) {
      const newer = segments[segments.length - 1];
      const older = segments[segments.length - 2];
      if (newer.liveCount * MERGE_RATIO < older.liveCount) return;
      const merged = mergeRuns(
        filterRun(older, older.alive, older.liveCount),
        filterRun(newer, newer.alive, newer.liveCount),
      );
      segments.splice(segments.length - 2, 2, this.createSegment(merged));
    }
  }

  /** A segment over a sorted run, laid out for its size. */
  private createSegment(run: EntryRun): HashSegment {
    const layout = chooseLayout(run.ids.length, this.largeLayoutMinEntries);
    return new HashSegment(run.ids, run.hi, run.lo, layout, this.kernel);
  }

  /** Every live entry, sorted by id. */
  private collectLive(): EntryRun {
    let all = sortRun(this.getTailRun());
    for (const segment of this.segments) all = mergeRuns(filterRun(segment, segment.alive, segment.liveCount), all);
    return all;
  }

  /** Copies of the tail's entries (unsorted). */
  private getTailRun(): EntryRun {
    const n = this.tailById.size;
    return { ids: this.tailIds.slice(0, n), hi: this.tailHi.slice(0, n), lo: this.tailLo.slice(0, n) };
  }

  private clearTail(): void {
    this.tailById.clear();
    if (this.tailIds.length > 4096)
      [this.tailIds, this.tailHi, this.tailLo] = [new Float64Array(64), new Uint32Array(64), new Uint32Array(64)];
  }
}

function grow<T extends Uint32Array | Float64Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array.subarray(0, Math.min(array.length, capacity)));
  return next;
}
