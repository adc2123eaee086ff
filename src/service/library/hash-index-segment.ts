// One immutable run of HashIndex entries (sorted by id, removals as tombstones) with its multi-index tables.
import { countBits32 } from './hash-bits.js';
import {
  getChunkKey,
  getFilterWord,
  getMasks,
  getRestBits,
  getTop32,
  planProbes,
  type ChunkKey,
  type ProbeKernel,
} from './hash-index-layout.js';
import { getNativeDecoder, type NativeDecoder } from '../hash/native-addon.js';

type NativeProbe = NativeDecoder['probeTable'];

/** The native probe when the addon is built and has it (an addon built before the probe existed does not). */
function getNativeProbe(): NativeProbe | undefined {
  const probeTable = getNativeDecoder()?.probeTable;
  return typeof probeTable === 'function' ? probeTable : undefined;
}

/** The kernel a new segment uses unless told otherwise. */
export function getDefaultProbeKernel(): ProbeKernel {
  return getNativeProbe() === undefined ? 'js' : 'native';
}

/** Hits in no particular order; the caller sorts. */
export interface Found {
  ids: number[];
  distances: number[];
}

/**
 * One CSR table: entry positions counting-sorted by the chunk key, with the filter word (see getFilterWord) and
 * the 16 bits after it inline, so a probe reads 4 bytes per candidate in order, 2 more for the few that pass, and
 * the entry itself only when those prove it within the radius (with 16-bit keys they cover all 64 bits). Reading
 * the full hash for every candidate passing the filter cost 0.15 ms per query at 10M in four 16-bit tables.
 */
interface Table {
  chunk: ChunkKey;
  offsets: Uint32Array;
  /** One longer than the entries: the warm-up read of an empty bucket at the very end stays in bounds. */
  filter: Uint32Array;
  /** The 16 bits after the filter word (wrapping round). */
  rest: Uint16Array;
  /** Position of the entry in the segment's arrays. */
  at: Uint32Array;
}

/** Start and end of each probed bucket of one table, reused by every search (searches are synchronous). */
let ranges = new Uint32Array(8192);
/** The native probe's query words and its (position, distance) pairs, reused likewise; grown when a probe finds more. */
const nativeQuery = new Uint32Array(6);
let nativeHits = new Uint32Array(2 * 1024);

/**
 * Entries as parallel typed arrays sorted by id (an id is found by binary search, no Map per entry) plus one table
 * per chunk of the layout chosen for the segment's size. About 17 bytes per entry here and 10 per table, plus the
 * offsets (3.4 bytes per entry at 10M).
 */
export class HashSegment {
  readonly alive: Uint8Array;
  dead = 0;
  private readonly tables: Table[];
  /** Sum of the warm-up reads: kept so the compiler cannot drop them. */
  private warmSink = 0;
  /** The addon's probe for the native kernel, looked up once here rather than on every query. */
  private readonly nativeProbe: NativeProbe | undefined;

  /** `ids` strictly increasing; the arrays are kept, not copied. */
  constructor(
    readonly ids: Float64Array,
    readonly hi: Uint32Array,
    readonly lo: Uint32Array,
    private readonly chunks: ChunkKey[],
    /** 'native' only where getDefaultProbeKernel() says it is built. */
    private readonly kernel: ProbeKernel,
  ) {
    this.alive = new Uint8Array(ids.length).fill(1);
    this.nativeProbe = kernel === 'native' ? getNativeProbe() : undefined;
    if (kernel === 'native' && this.nativeProbe === undefined)
      throw new Error('the native probe kernel was asked for, but the addon does not have it');
    const groupedKeys = new Uint32Array(ids.length);
    this.tables = this.chunks.map((chunk) => buildTable(chunk, hi, lo, groupedKeys));
  }

  get liveCount(): number {
    return this.ids.length - this.dead;
  }

  /** Bytes held by the typed arrays (the index's memory, bar a few objects). */
  get byteLength(): number {
    let bytes = this.ids.byteLength + this.hi.byteLength + this.lo.byteLength + this.alive.byteLength;
    for (const t of this.tables)
      bytes += t.offsets.byteLength + t.filter.byteLength + t.rest.byteLength + t.at.byteLength;
    return bytes;
  }

  /** Binary search of the sorted ids; the position when present and not removed, else -1. */
  findAlive(id: number): number {
    const ids = this.ids;
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = ids[mid];
      if (value === id) return this.alive[mid] === 1 ? mid : -1;
      if (value < id) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** Tombstones the entry at `at` (a position from findAlive). */
  kill(at: number): void {
    this.alive[at] = 0;
    this.dead++;
  }

  /** Adds every live entry within `radius` of `qHi:qLo` to `found`. */
  search(qHi: number, qLo: number, radius: number, found: Found): void {
    const radii = planProbes(this.chunks, this.ids.length, radius);
    if (radii === undefined) {
      this.scan(qHi, qLo, radius, found);
      return;
    }
    for (let c = 0; c < this.tables.length; c++) {
      if (radii[c] < 0) continue;
      if (this.kernel === 'native') this.probeNative(c, radii, qHi, qLo, radius, found);
      else this.probe(c, radii, qHi, qLo, radius, found);
    }
  }

  /** Table `c` probed by the native kernel: the same passes and tests as probe(), then the same report. */
  private probeNative(c: number, radii: number[], qHi: number, qLo: number, radius: number, found: Found): void {
    const { chunk, offsets, filter, rest, at } = this.tables[c];
    const masks = getMasks(chunk.keyBits, radii[c]);
    nativeQuery[0] = getChunkKey(qHi, qLo, chunk);
    nativeQuery[1] = getFilterWord(qHi, qLo, chunk);
    nativeQuery[2] = getRestBits(qHi, qLo, chunk);
    nativeQuery[3] = qHi;
    nativeQuery[4] = qLo;
    nativeQuery[5] = radius;
    const probeTable = this.nativeProbe as NativeProbe;
    const { hi, lo, alive } = this;
    let count = probeTable(offsets, filter, rest, at, hi, lo, alive, masks, nativeQuery, nativeHits);
    if (count > nativeHits.length / 2) {
      nativeHits = new Uint32Array(2 * count);
      count = probeTable(offsets, filter, rest, at, hi, lo, alive, masks, nativeQuery, nativeHits);
    }
    for (let h = 0; h < count; h++) this.report(nativeHits[2 * h], nativeHits[2 * h + 1], c, radii, qHi, qLo, found);
  }

  /**
   * Probes table `c` in three passes: bucket bounds for every neighbour key, one read of each bucket's first word,
   * then the candidates. The first two passes are independent reads the CPU keeps many of in flight; at 10M the
   * buckets are random in memory and the third pass waits far less for them (10M: measured 0.70 → 0.45 ms).
   */
  private probe(c: number, radii: number[], qHi: number, qLo: number, radius: number, found: Found): void {
    const { chunk, offsets, filter, rest, at } = this.tables[c];
    const masks = getMasks(chunk.keyBits, radii[c]);
    const count = masks.length;
    if (ranges.length < 2 * count) ranges = new Uint32Array(2 * count);
    const bounds = ranges;
    const qKey = getChunkKey(qHi, qLo, chunk);
    for (let m = 0; m < count; m++) {
      const key = qKey ^ masks[m];
      bounds[2 * m] = offsets[key];
      bounds[2 * m + 1] = offsets[key + 1];
    }
    let warm = 0;
    for (let m = 0; m < count; m++) warm ^= filter[bounds[2 * m]];
    this.warmSink ^= warm;
    const qFilter = getFilterWord(qHi, qLo, chunk);
    const qRest = getRestBits(qHi, qLo, chunk);
    const { hi, lo, alive } = this;
    for (let m = 0; m < count; m++) {
      const limit = radius - countBits32(masks[m]);
      const end = bounds[2 * m + 1];
      for (let p = bounds[2 * m]; p < end; p++) {
        const filterDistance = countBits32((filter[p] ^ qFilter) >>> 0);
        if (filterDistance > limit || filterDistance + countBits32(rest[p] ^ qRest) > limit) continue;
        const i = at[p];
        const xHi = (hi[i] ^ qHi) >>> 0;
        const xLo = (lo[i] ^ qLo) >>> 0;
        const distance = countBits32(xHi) + countBits32(xLo);
        if (distance > radius || alive[i] === 0) continue;
        this.report(i, distance, c, radii, qHi, qLo, found);
      }
    }
  }

  /** Adds live entry `i`, found `distance` bits away in table `c`, unless an earlier table reported it already. */
  private report(i: number, distance: number, c: number, radii: number[], qHi: number, qLo: number, found: Found) {
    const xHi = (this.hi[i] ^ qHi) >>> 0;
    const xLo = (this.lo[i] ^ qLo) >>> 0;
    if (this.isFoundEarlier(xHi, xLo, c, radii)) return;
    found.ids.push(this.ids[i]);
    found.distances.push(distance);
  }

  private isFoundEarlier(xHi: number, xLo: number, c: number, radii: number[]): boolean {
    for (let e = 0; e < c; e++)
      if (radii[e] >= 0 && countBits32(getChunkKey(xHi, xLo, this.chunks[e])) <= radii[e]) return true;
    return false;
  }

  private scan(qHi: number, qLo: number, radius: number, found: Found): void {
    scanEntries(this, this.ids.length, this.alive, qHi, qLo, radius, found);
  }
}

/** Adds the first `count` entries of `run` within `radius` of `qHi:qLo` (and `alive`, when given) to `found`. */
export function scanEntries(
  run: { ids: Float64Array; hi: Uint32Array; lo: Uint32Array },
  count: number,
  alive: Uint8Array | undefined,
  qHi: number,
  qLo: number,
  radius: number,
  found: Found,
): void {
  const { ids, hi, lo } = run;
  for (let i = 0; i < count; i++) {
    const distance = countBits32((hi[i] ^ qHi) >>> 0) + countBits32((lo[i] ^ qLo) >>> 0);
    if (distance <= radius && (alive === undefined || alive[i] === 1)) {
      found.ids.push(ids[i]);
      found.distances.push(distance);
    }
  }
}

/** The build sorts in groups of about this many entries: a group's cursors and entries fit the L2 cache. */
const GROUP_ENTRIES = 1 << 15;

/**
 * Sorts the entry positions by chunk key in two passes, each writing where the cache is: first by the key's top
 * bits into groups of ~32k entries, then within each group by the whole key. One pass counting and scattering into
 * 2^21 buckets of 10M entries missed the cache on every access (measured 1.6 s a table, 0.5 s in two passes).
 */
function buildTable(chunk: ChunkKey, hi: Uint32Array, lo: Uint32Array, groupedKeys: Uint32Array): Table {
  const n = hi.length;
  const { start, keyBits } = chunk;
  const keyCount = 2 ** keyBits;
  const shift = 32 - keyBits;
  const groupBits = Math.min(keyBits, Math.max(0, Math.ceil(Math.log2(n / GROUP_ENTRIES))));
  const lowBits = keyBits - groupBits;
  const groupCount = keyCount >>> lowBits;
  const groupStarts = new Uint32Array(groupCount + 1);
  for (let i = 0; i < n; i++) groupStarts[((getTop32(hi[i], lo[i], start) >>> shift) >>> lowBits) + 1]++;
  for (let g = 0; g < groupCount; g++) groupStarts[g + 1] += groupStarts[g];
  const cursor = groupStarts.slice(0, groupCount);
  const filter = new Uint32Array(n + 1);
  const rest = new Uint16Array(n);
  const at = new Uint32Array(n);
  const filterFrom = start + keyBits;
  for (let i = 0; i < n; i++) {
    const key = getTop32(hi[i], lo[i], start) >>> shift;
    const q = cursor[key >>> lowBits]++;
    groupedKeys[q] = key;
    at[q] = i;
    filter[q] = getTop32(hi[i], lo[i], filterFrom);
    rest[q] = getRestBits(hi[i], lo[i], chunk);
  }
  const offsets = new Uint32Array(keyCount + 1);
  let groupAt = new Uint32Array(0);
  let groupFilter = new Uint32Array(0);
  let groupRest = new Uint16Array(0);
  for (let g = 0; g < groupCount; g++) {
    const from = groupStarts[g];
    const size = groupStarts[g + 1] - from;
    // Counting sort within the group: its keys are [g << lowBits, (g + 1) << lowBits).
    const firstKey = g << lowBits;
    const lastKey = firstKey + (1 << lowBits);
    for (let j = from; j < from + size; j++) offsets[groupedKeys[j] + 1]++;
    offsets[firstKey] = from;
    for (let k = firstKey; k < lastKey; k++) offsets[k + 1] += offsets[k];
    if (groupAt.length < size)
      [groupAt, groupFilter, groupRest] = [new Uint32Array(size), new Uint32Array(size), new Uint16Array(size)];
    groupAt.set(at.subarray(from, from + size));
    groupFilter.set(filter.subarray(from, from + size));
    groupRest.set(rest.subarray(from, from + size));
    const next = offsets.slice(firstKey, lastKey);
    for (let j = 0; j < size; j++) {
      const p = next[groupedKeys[from + j] - firstKey]++;
      at[p] = groupAt[j];
      filter[p] = groupFilter[j];
      rest[p] = groupRest[j];
    }
  }
  return { chunk, offsets, filter, rest, at };
}
