// Match latency and index memory: multi-index HashIndex vs a plain full scan over the same random library
// (to 10M), at threshold 10; both probe kernels (native popcount, JS) and both table layouts where they compete,
// and queries after a run of runtime adds.
import os from 'node:os';
import { HashIndex, type HashIndexOptions, type IndexHit } from '../src/service/library/hash-index.js';
import { LARGE_LAYOUT_MIN_ENTRIES, type ProbeKernel } from '../src/service/library/hash-index-layout.js';
import { getDefaultProbeKernel } from '../src/service/library/hash-index-segment.js';
import { countBits32, formatHash, parseHash } from '../src/service/library/hash-bits.js';
import { createRandom, flipBits } from '../test/service/library/random-hashes.js';

const THRESHOLD = 10;
const SIZES = (process.env.MATCH_BENCH_SIZES ?? '100000,1000000,5000000,8000000,10000000,12000000')
  .split(',')
  .map(Number);
const INDEX_QUERIES = 2000;
/** Adds (and a tenth as many removals) one by one after the bulk load at 10M, as the service and the sync feed do. */
const RUNTIME_ADDS = 100_000;
/** The scan baseline costs ~n × 3 ns per query: fewer queries at 10M keep the bench near a minute. */
const getScanQueries = (size: number) => (size >= 10_000_000 ? 40 : 200);
const exposedGc = (globalThis as { gc?: () => void }).gc;
/** Twice: a full GC frees dead ArrayBuffers' memory only when their sweep finishes, at the latest in the next GC. */
const gc = exposedGc && (() => [exposedGc(), exposedGc()]);
const LAYOUTS: Record<string, number> = { '4×16': Number.POSITIVE_INFINITY, '3×21': 0 };
/** The native kernel first (what the service runs where the addon is built), then the JS fallback. */
const KERNELS: ProbeKernel[] = getDefaultProbeKernel() === 'native' ? ['native', 'js'] : ['js'];
const chooseLayoutName = (size: number, kernel: ProbeKernel) =>
  size >= LARGE_LAYOUT_MIN_ENTRIES[kernel] ? '3×21' : '4×16';

const random = createRandom(20261128);
const randomWord = () => (random() * 2 ** 32) >>> 0;

/** The baseline: every entry's distance from typed arrays, then sort the hits. */
function scan(hi: Uint32Array, lo: Uint32Array, n: number, hash: string, radius: number): IndexHit[] {
  const q = parseHash(hash);
  const hits: IndexHit[] = [];
  for (let i = 0; i < n; i++) {
    const d = countBits32((hi[i] ^ q.hi) >>> 0) + countBits32((lo[i] ^ q.lo) >>> 0);
    if (d <= radius) hits.push({ id: i + 1, distance: d });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

interface Latency {
  medianMs: number;
  p95Ms: number;
  /** Process CPU time per query: what the query costs when the 2 shared cores are busy with other work. */
  cpuP95Ms: number;
  hits: number;
}

/** What is measured: an index or the scan. */
interface Searcher {
  search(hash: string, maxDistance: number): IndexHit[];
}

function measure(queries: string[], searcher: Searcher): Latency {
  for (const q of queries.slice(0, 20)) searcher.search(q, THRESHOLD); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    hits += searcher.search(q, THRESHOLD).length;
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return {
    medianMs: getPercentile(wall, 0.5),
    p95Ms: getPercentile(wall, 0.95),
    cpuP95Ms: getPercentile(cpu, 0.95),
    hits,
  };
}

function getPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Half near-duplicates of entries (0..12 bits flipped, so many hit within 10), half random hashes (misses). */
function createQueries(hi: Uint32Array, lo: Uint32Array, size: number): string[] {
  return Array.from({ length: INDEX_QUERIES }, (_, i) => {
    if (i % 2 === 1) return formatHash(randomWord(), randomWord());
    const j = Math.floor(random() * size);
    return flipBits(formatHash(hi[j], lo[j]), Math.floor(random() * 13), random);
  });
}

/**
 * Builds the index the start-up way (typed arrays from SQLite) and measures what it keeps: memory after a full GC
 * on both sides (run with --expose-gc, as `npm run bench:match` does), so the delta is its typed arrays plus its
 * JS heap. The index keeps the arrays it is given: copies made inside the measured span count as its memory.
 */
function buildIndex(hi: Uint32Array, lo: Uint32Array, size: number, options: HashIndexOptions) {
  gc?.();
  const before = process.memoryUsage();
  const start = performance.now();
  const ids = new Float64Array(size);
  for (let i = 0; i < size; i++) ids[i] = i + 1;
  const index = new HashIndex(options);
  index.addHalves(ids, hi.slice(), lo.slice());
  const buildMs = performance.now() - start;
  gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  return { index, buildMs, bytesPerEntry: bytes / size, arrayBytesPerEntry: index.byteLength / size };
}

/** Adds RUNTIME_ADDS near-duplicates one by one and removes a tenth as many; the slowest single call is a rebuild. */
function applyRuntimeChanges(index: HashIndex, hi: Uint32Array, lo: Uint32Array, size: number) {
  let slowestMs = 0;
  const start = performance.now();
  for (let k = 0; k < RUNTIME_ADDS; k++) {
    const j = Math.floor(random() * size);
    const callStart = performance.now();
    index.add(size + 1 + k, flipBits(formatHash(hi[j], lo[j]), 1 + (k % 8), random));
    if (k % 10 === 0) index.remove(1 + Math.floor(random() * size));
    slowestMs = Math.max(slowestMs, performance.now() - callStart);
  }
  return { usPerChange: ((performance.now() - start) * 1000) / (RUNTIME_ADDS * 1.1), slowestMs };
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

interface Library {
  size: number;
  hi: Uint32Array;
  lo: Uint32Array;
  queries: string[];
  scanQueries: string[];
  scanned: Latency;
}

/**
 * One table row: the index in `layout` over `library`, checked against the scan first. A function of its own so
 * the index is garbage once it returns and the next layout's memory figure does not include it.
 */
function measureLayout(library: Library, kernel: ProbeKernel, layout: string, isChosen: boolean) {
  const { size, hi, lo, queries, scanQueries, scanned } = library;
  const built = buildIndex(hi, lo, size, { kernel, largeLayoutMinEntries: LAYOUTS[layout] });
  for (const q of scanQueries.slice(0, 20)) {
    if (JSON.stringify(built.index.search(q, THRESHOLD)) !== JSON.stringify(scan(hi, lo, size, q, THRESHOLD)))
      throw new Error(`index and scan disagree on ${q}`);
  }
  const indexed = measure(queries, built.index);
  const row = [
    size.toLocaleString('en-US'),
    kernel,
    isChosen ? `${layout} (chosen)` : layout,
    fmt(indexed.medianMs),
    fmt(indexed.p95Ms),
    fmt(scanned.medianMs),
    fmt(scanned.p95Ms),
    `${(scanned.medianMs / indexed.medianMs).toFixed(0)}×`,
    `${(scanned.p95Ms / indexed.p95Ms).toFixed(0)}×`,
    fmt(indexed.cpuP95Ms),
    `${(indexed.hits / queries.length).toFixed(2)}`,
    `${built.buildMs.toFixed(0)} ms`,
    `${built.bytesPerEntry.toFixed(1)} B`,
    `${built.arrayBytesPerEntry.toFixed(1)} B`,
  ];
  let note: string | undefined;
  if (size === 10_000_000 && isChosen && kernel === KERNELS[0]) {
    const changes = applyRuntimeChanges(built.index, hi, lo, size);
    const after = measure(queries, built.index);
    note =
      `10M (${kernel}) after ${RUNTIME_ADDS.toLocaleString('en-US')} runtime adds and ${RUNTIME_ADDS / 10} removals: ` +
      `${changes.usPerChange.toFixed(1)} µs per change, slowest call ${changes.slowestMs.toFixed(0)} ms; ` +
      `search median ${fmt(after.medianMs)}, p95 ${fmt(after.p95Ms)} (cpu p95 ${fmt(after.cpuP95Ms)})`;
  }
  return { row, indexed, bytesPerEntry: built.bytesPerEntry, note };
}

const header = ['entries', 'kernel', 'layout', 'index median', 'index p95', 'scan median', 'scan p95', 'median ratio'];
header.push('p95 ratio', 'index cpu p95', 'hits/query', 'index build', 'bytes/entry', 'arrays/entry');
const rows: string[][] = [];
const notes: string[] = [];
let at10m: { p95Ms: number; cpuP95Ms: number; bytesPerEntry: number } | undefined;
const jsAt10m: { p95Ms?: number } = {};
if (!gc) console.log('note: run with node --expose-gc for an honest memory figure (npm run bench:match does)');
for (const size of SIZES) {
  const hi = new Uint32Array(size);
  const lo = new Uint32Array(size);
  for (let i = 0; i < size; i++) [hi[i], lo[i]] = [randomWord(), randomWord()];
  const queries = createQueries(hi, lo, size);
  const scanQueries = queries.slice(0, getScanQueries(size));
  const library = {
    size,
    hi,
    lo,
    queries,
    scanQueries,
    scanned: measure(scanQueries, { search: (q, radius) => scan(hi, lo, size, q, radius) }),
  };
  for (const kernel of KERNELS) {
    const chosen = chooseLayoutName(size, kernel);
    // Both layouts from 1M up, the chosen one first: each kernel's crossover is picked from these rows.
    const layouts = size >= 1_000_000 ? [chosen, chosen === '3×21' ? '4×16' : '3×21'] : [chosen];
    for (const layout of layouts) {
      const result = measureLayout(library, kernel, layout, layout === chosen);
      rows.push(result.row);
      if (result.note) notes.push(result.note);
      if (size !== 10_000_000 || layout !== chosen) continue;
      if (kernel === KERNELS[0])
        at10m = { p95Ms: result.indexed.p95Ms, cpuP95Ms: result.indexed.cpuP95Ms, bytesPerEntry: result.bytesPerEntry };
      if (kernel === 'js') jsAt10m.p95Ms = result.indexed.p95Ms;
    }
  }
}

console.log(
  `dhash match benchmark: threshold ${THRESHOLD}, ${INDEX_QUERIES} index queries / 200 (40 at 10M) scan ` +
    `queries, half near-duplicates and half random; layouts: 4×16 = four 16-bit tables, 3×21 = three ` +
    `21/21/22-bit tables (chosen from ${LARGE_LAYOUT_MIN_ENTRIES.native.toLocaleString('en-US')} entries with ` +
    `the native kernel, ${LARGE_LAYOUT_MIN_ENTRIES.js.toLocaleString('en-US')} with JS); kernels: native = ` +
    `native/src/hash-probe.c (popcount instruction), js = the fallback loop where the addon is not built`,
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
for (const note of notes) console.log(note);
console.log(
  `load average during the run: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores ` +
    `(wall-clock tails include waiting for a core)`,
);
if (at10m) {
  console.log(
    `targets at 10M: p95 <= 0.5 ms (wall ${at10m.p95Ms.toFixed(3)} ms, cpu ${at10m.cpuP95Ms.toFixed(3)} ms); ` +
      `index memory <= 100 B/entry (${at10m.bytesPerEntry.toFixed(1)} B); kernel ${KERNELS[0]}` +
      (jsAt10m.p95Ms === undefined ? '' : ` (the JS kernel: p95 ${jsAt10m.p95Ms.toFixed(3)} ms)`),
  );
  console.log(`target match_index_bytes_per_entry_10m ${at10m.bytesPerEntry.toFixed(1)} B`);
  console.log(`target match_p95_ms_10m ${at10m.p95Ms.toFixed(3)} ms`);
}
