// The two probe kernels (native/src/hash-probe.c and the JS loop) find exactly what a full scan finds, in both
// layouts, through tombstones, past the native kernel's result buffer and its on-stack bucket bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashIndex, type IndexHit } from '../../../src/service/library/hash-index.js';
import {
  chooseLayout,
  getMasks,
  planProbes,
  type ProbeKernel,
} from '../../../src/service/library/hash-index-layout.js';
import { getDefaultProbeKernel } from '../../../src/service/library/hash-index-segment.js';
import { getNativeDecoder } from '../../../src/service/hash/native-addon.js';
import { countBits32, parseHash } from '../../../src/service/library/hash-bits.js';
import { createRandom, createRandomHash, flipBits } from './random-hashes.js';

const KERNELS: ProbeKernel[] = ['native', 'js'];
const FOUR_TABLES = Number.POSITIVE_INFINITY;

interface Library {
  ids: Float64Array;
  hi: Uint32Array;
  lo: Uint32Array;
  alive: Uint8Array;
}

/** A live library of `n` entries, entry `i` with id 3i + 7 and hash `hashAt(i)`. */
function buildLibrary(n: number, hashAt: (i: number) => string): Library {
  const library = {
    ids: new Float64Array(n),
    hi: new Uint32Array(n),
    lo: new Uint32Array(n),
    alive: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    library.ids[i] = 3 * i + 7;
    ({ hi: library.hi[i], lo: library.lo[i] } = parseHash(hashAt(i)));
    library.alive[i] = 1;
  }
  return library;
}

/** `n` entries: a third random, the rest within 0..14 bits of a few bases (exact duplicates among them). */
function createLibrary(n: number, seed: number): { library: Library; bases: string[] } {
  const random = createRandom(seed);
  const bases = Array.from({ length: 40 }, () => createRandomHash(random));
  const library = buildLibrary(n, (i) =>
    i % 3 === 0 ? createRandomHash(random) : flipBits(bases[i % bases.length], Math.floor(random() * 15), random),
  );
  return { library, bases };
}

function loadIndex(library: Library, kernel: ProbeKernel, largeLayoutMinEntries: number): HashIndex {
  const index = new HashIndex({ kernel, largeLayoutMinEntries });
  index.addHalves(library.ids.slice(), library.hi.slice(), library.lo.slice());
  return index;
}

function scan(library: Library, hash: string, radius: number): IndexHit[] {
  const q = parseHash(hash);
  const hits: IndexHit[] = [];
  for (let i = 0; i < library.ids.length; i++) {
    const distance = countBits32((library.hi[i] ^ q.hi) >>> 0) + countBits32((library.lo[i] ^ q.lo) >>> 0);
    if (library.alive[i] === 1 && distance <= radius) hits.push({ id: library.ids[i], distance });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

function createQueries(bases: string[], seed: number): string[] {
  const random = createRandom(seed);
  return Array.from({ length: 24 }, (_, i) =>
    i % 4 === 0 ? createRandomHash(random) : flipBits(bases[i % bases.length], i % 13, random),
  );
}

test('the native probe kernel is built and is the default (npm run build:native builds it)', () => {
  assert.equal(
    typeof getNativeDecoder()?.probeTable,
    'function',
    'native addon without probeTable: npm run build:native',
  );
  assert.equal(getDefaultProbeKernel(), 'native');
  assert.equal(new HashIndex().kernel, 'native');
});

for (const [layout, largeLayoutMinEntries] of [
  ['four 16-bit tables', FOUR_TABLES],
  ['three 21/21/22-bit tables', 0],
] as const) {
  test(`both kernels answer like a full scan in ${layout}, before and after removals`, () => {
    const { library, bases } = createLibrary(60_000, 5);
    const size = library.ids.length;
    assert.ok(planProbes(chooseLayout(size, largeLayoutMinEntries), size, 10), 'radius 10 probes (no scan)');
    const indexes = KERNELS.map((kernel) => loadIndex(library, kernel, largeLayoutMinEntries));
    const queries = createQueries(bases, 9);
    const check = (label: string) => {
      for (const q of queries)
        for (const r of [0, 2, 5, 10, 11, 12]) {
          const expected = scan(library, q, r);
          for (const [k, index] of indexes.entries())
            assert.deepEqual(index.search(q, r), expected, `${label}, ${KERNELS[k]}: ${q} radius ${r}`);
        }
    };
    check('loaded');
    // A few tombstones (below the compaction threshold, so the tables keep the dead entries).
    for (let i = 1; i < size; i += 97) {
      library.alive[i] = 0;
      for (const index of indexes) assert.equal(index.remove(library.ids[i]), true);
    }
    check('after removals');
  });
}

test('a probe with more hits than the native result buffer holds returns them all, and the next query too', () => {
  const duplicate = '0123456789abcdef';
  const random = createRandom(3);
  // Three in four are the same image: one bucket of 15k entries, far past 1024 result pairs.
  const library = buildLibrary(20_000, (i) =>
    i % 4 === 0 ? createRandomHash(random) : flipBits(duplicate, i % 3, random),
  );
  const index = loadIndex(library, 'native', FOUR_TABLES);
  for (const [q, r] of [
    [duplicate, 2],
    [duplicate, 0],
    [flipBits(duplicate, 1, random), 10],
  ] as const) {
    const hits = index.search(q, r);
    assert.deepEqual(hits, scan(library, q, r), `${q} radius ${r}`);
    assert.ok(hits.length > 4000, `${q} radius ${r}: ${hits.length} hits`);
  }
});

test('a search probing more than 1024 buckets a table (radius 12 over three tables of 16-bit keys) answers like a scan', () => {
  const { library, bases } = createLibrary(400_000, 21);
  const chunks = chooseLayout(library.ids.length, 0);
  const radii = planProbes(chunks, library.ids.length, 12);
  assert.ok(radii, 'radius 12 probes');
  assert.ok(getMasks(chunks[0].keyBits, radii[0]).length > 1024, 'more buckets than the native stack holds');
  const index = loadIndex(library, 'native', 0);
  for (const q of createQueries(bases, 4).slice(0, 6)) assert.deepEqual(index.search(q, 12), scan(library, q, 12), q);
});

test('the native probe refuses arrays that do not belong together instead of reading past them', () => {
  const probeTable = getNativeDecoder()?.probeTable;
  assert.ok(probeTable, 'npm run build:native');
  const offsets = Uint32Array.from([0, 1, 2]);
  const masks = Uint32Array.from([0, 1]);
  const query = Uint32Array.from([0, 0, 0, 0, 0, 10]);
  const out = new Uint32Array(8);
  const [hi, lo] = [Uint32Array.from([1, 2]), Uint32Array.from([3, 4])];
  const alive = Uint8Array.from([1, 1]);
  const filter = new Uint32Array(3);
  // `at` shorter than `rest`: a shape error, thrown as a TypeError before anything is read.
  assert.throws(
    () => probeTable(offsets, filter, new Uint16Array(2), new Uint32Array(1), hi, lo, alive, masks, query, out),
    { name: 'TypeError', code: 'EDHASHNATIVE' },
  );
  // A key past the offsets (mask 2 of a two-key table) and an entry position past the entries are refused too.
  const at = Uint32Array.from([0, 1]);
  assert.throws(
    () => probeTable(offsets, filter, new Uint16Array(2), at, hi, lo, alive, Uint32Array.from([2]), query, out),
    /outside its arrays/,
  );
  assert.throws(
    () => probeTable(offsets, filter, new Uint16Array(2), Uint32Array.from([0, 5]), hi, lo, alive, masks, query, out),
    /outside its arrays/,
  );
  // Both entries are in range of the query (distances 1 + 2 and 1 + 1), found once each.
  assert.equal(probeTable(offsets, filter, new Uint16Array(2), at, hi, lo, alive, masks, query, out), 2);
  assert.deepEqual([...out.subarray(0, 4)], [0, 3, 1, 2]);
});
