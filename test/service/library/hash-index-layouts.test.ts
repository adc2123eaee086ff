import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashIndex, type IndexHit } from '../../../src/service/library/hash-index.js';
import {
  chooseLayout,
  getChunkRadii,
  LARGE_LAYOUT_MIN_ENTRIES,
  getMasks,
  getRestBits,
  getTop32,
  planProbes,
} from '../../../src/service/library/hash-index-layout.js';
import { countBits32, formatHash, getHammingDistance, parseHash } from '../../../src/service/library/hash-bits.js';
import { createRandom, createRandomHash, flipBits } from './random-hashes.js';

/** The index under test switches to the three-table layout at this size, so a test-sized library crosses it. */
const SWITCH = 30_000;
/** 0 (exact), the service's review threshold (10), and the largest distance two 64-bit hashes can have. */
const RADII = [0, 1, 4, 7, 9, 10, 11, 12, 16, 64];

function searchByScan(entries: Map<number, string>, hash: string, maxDistance: number): IndexHit[] {
  const q = parseHash(hash);
  const hits: IndexHit[] = [];
  for (const [id, h] of entries) {
    const distance = getHammingDistance(q, parseHash(h));
    if (distance <= maxDistance) hits.push({ id, distance });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

/** A library where most entries sit in clusters of near-duplicates (and exact duplicates) around a few bases. */
function createLibrary(random: () => number, bases: string[]) {
  return (): string => {
    const roll = random();
    if (roll < 0.3) return createRandomHash(random);
    const base = bases[Math.floor(random() * bases.length)];
    return roll < 0.4 ? base : flipBits(base, Math.floor(random() * 15), random);
  };
}

function assertAgreesWithScan(index: HashIndex, entries: Map<number, string>, queries: string[], label: string) {
  assert.equal(index.size, entries.size, `${label}: size`);
  for (const q of queries)
    for (const r of RADII) {
      const expected = searchByScan(entries, q, r);
      assert.deepEqual(index.search(q, r), expected, `${label}: query ${q} radius ${r}`);
      assert.deepEqual(index.search(q, r, 3), expected.slice(0, 3), `${label}: query ${q} radius ${r} limit 3`);
    }
}

test("the layout switches from four 16-bit tables to three 21/21/22-bit tables at the kernel's size", () => {
  const JS = LARGE_LAYOUT_MIN_ENTRIES.js;
  assert.deepEqual(
    chooseLayout(1_000_000, JS).map((c) => [c.start, c.width, c.keyBits]),
    [
      [0, 16, 16],
      [16, 16, 16],
      [32, 16, 16],
      [48, 16, 16],
    ],
  );
  assert.deepEqual(
    chooseLayout(20_000_000, JS).map((c) => [c.start, c.width, c.keyBits]),
    [
      [0, 21, 21],
      [21, 21, 21],
      [42, 22, 22],
    ],
  );
  assert.equal(chooseLayout(10_999_999, JS).length, 4);
  assert.equal(chooseLayout(11_000_000, JS).length, 3);
  assert.equal(new HashIndex({ kernel: 'js' }).kernel, 'js');
  // Smaller segments key on fewer bits: ~8 entries a bucket instead of a 1 MB offsets table for 2048 entries.
  assert.deepEqual(
    chooseLayout(2048, JS).map((c) => c.keyBits),
    [9, 9, 9, 9],
  );
});

test('per-table radii over three chunks: r = 3s + t searches t + 1 chunks at s, the rest at s - 1', () => {
  assert.deepEqual(getChunkRadii(0, 3), [0, -1, -1]);
  assert.deepEqual(getChunkRadii(9, 3), [3, 2, 2]);
  assert.deepEqual(getChunkRadii(10, 3), [3, 3, 2]);
  assert.deepEqual(getChunkRadii(11, 3), [3, 3, 3]);
});

test('probes at radius 10 at 10M entries in either layout but scans for radius 64 and for tiny segments', () => {
  assert.deepEqual(planProbes(chooseLayout(10_000_000, 0), 10_000_000, 10), [3, 3, 2]);
  assert.deepEqual(planProbes(chooseLayout(10_000_000, LARGE_LAYOUT_MIN_ENTRIES.js), 10_000_000, 10), [2, 2, 2, 1]);
  assert.deepEqual(planProbes(chooseLayout(1_000_000, LARGE_LAYOUT_MIN_ENTRIES.js), 1_000_000, 10), [2, 2, 2, 1]);
  assert.equal(planProbes(chooseLayout(10_000_000, LARGE_LAYOUT_MIN_ENTRIES.js), 10_000_000, 64), undefined);
  assert.equal(planProbes(chooseLayout(100, LARGE_LAYOUT_MIN_ENTRIES.js), 100, 10), undefined);
  // The test-sized libraries below really probe in both layouts.
  assert.deepEqual(planProbes(chooseLayout(40_000, SWITCH), 40_000, 10), [3, 3, 2]);
  assert.deepEqual(planProbes(chooseLayout(20_000, SWITCH), 20_000, 10), [2, 2, 2, 1]);
});

test('neighbour masks list every key within the radius once, fewest bits first', () => {
  const masks = getMasks(21, 3);
  assert.equal(masks.length, 1 + 21 + 210 + 1330);
  assert.equal(new Set(masks).size, masks.length);
  assert.deepEqual([...masks.slice(0, 3)], [0, 1, 2]);
  assert.equal(masks[masks.length - 1], 0b111 << 18);
});

test('the 32 bits at any offset wrap around the 64-bit hash', () => {
  const { hi, lo } = parseHash('0123456789abcdef');
  assert.equal(getTop32(hi, lo, 0).toString(16), '1234567');
  assert.equal(getTop32(hi, lo, 32).toString(16), '89abcdef');
  assert.equal(getTop32(hi, lo, 4).toString(16), '12345678');
  assert.equal(getTop32(hi, lo, 44).toString(16), 'bcdef012');
  assert.equal(getTop32(hi, lo, 64).toString(16), '1234567');
});

test('the rest bits after the filter word stop short of the key', () => {
  const { hi, lo } = parseHash('0123456789abcdef');
  // A 21-bit key and its 32-bit filter word leave the hash's last 11 bits.
  assert.equal(getRestBits(hi, lo, { start: 0, width: 21, keyBits: 21 }), 0xdef & 0x7ff);
  // Key bits 16..31, filter bits 32..63: the rest wraps round to bits 0..15.
  assert.equal(getRestBits(hi, lo, { start: 16, width: 16, keyBits: 16 }), 0x0123);
  // A 9-bit key: 16 of the 23 bits left.
  assert.equal(getRestBits(hi, lo, { start: 0, width: 16, keyBits: 9 }), getTop32(hi, lo, 41) >>> 16);
});

test('keys wider than 16 bits (600k entries in three tables of 17/17/18-bit keys) answer like a full scan', () => {
  const random = createRandom(31);
  const n = 600_000;
  const ids = new Float64Array(n);
  const his = new Uint32Array(n);
  const los = new Uint32Array(n);
  const bases = Array.from({ length: 50 }, () => parseHash(createRandomHash(random)));
  for (let i = 0; i < n; i++) {
    ids[i] = i + 1;
    const base = bases[i % bases.length];
    // Half random, half within 1..12 bits of a few bases: every radius up to 12 has hits.
    const near = parseHash(flipBits(formatHash(base.hi, base.lo), 1 + (i % 12), random));
    his[i] = i % 2 ? near.hi : (random() * 2 ** 32) >>> 0;
    los[i] = i % 2 ? near.lo : (random() * 2 ** 32) >>> 0;
  }
  const index = new HashIndex({ largeLayoutMinEntries: 500_000 });
  index.addHalves(ids, his.slice(), los.slice());
  assert.deepEqual(
    chooseLayout(n, 500_000).map((c) => c.keyBits),
    [17, 17, 18],
  );
  const scan = (q: { hi: number; lo: number }, radius: number): IndexHit[] => {
    const hits: IndexHit[] = [];
    for (let i = 0; i < n; i++) {
      const distance = countBits32((his[i] ^ q.hi) >>> 0) + countBits32((los[i] ^ q.lo) >>> 0);
      if (distance <= radius) hits.push({ id: ids[i], distance });
    }
    return hits.sort((a, b) => a.distance - b.distance || a.id - b.id);
  };
  for (let k = 0; k < 16; k++) {
    const base = bases[k];
    const q = k % 4 === 0 ? createRandomHash(random) : flipBits(formatHash(base.hi, base.lo), k % 6, random);
    // Radius 64 returns the whole library: once is enough.
    for (const r of k === 0 ? [0, 10, 64] : [0, 3, 10, 11])
      assert.deepEqual(index.search(q, r), scan(parseHash(q), r), `${q} radius ${r}`);
  }
});

test('agrees with a full scan on clustered and random hashes while adds and removals cross the layout switch', () => {
  const random = createRandom(11);
  const bases = Array.from({ length: 200 }, () => createRandomHash(random));
  const nextHash = createLibrary(random, bases);
  const index = new HashIndex({ largeLayoutMinEntries: SWITCH, tailLimit: 2048 });
  const entries = new Map<number, string>();
  const queries = () =>
    Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0 ? createRandomHash(random) : flipBits(bases[Math.floor(random() * bases.length)], i % 12, random),
    );
  // Bulk load below the switch: one segment of four 16-bit tables.
  const ids = new Float64Array(20_000);
  const his = new Uint32Array(20_000);
  const los = new Uint32Array(20_000);
  for (let i = 0; i < ids.length; i++) {
    const hash = nextHash();
    ids[i] = i * 2 + 1;
    ({ hi: his[i], lo: los[i] } = parseHash(hash));
    entries.set(ids[i], hash);
  }
  index.addHalves(ids, his, los);
  assertAgreesWithScan(index, entries, queries(), 'bulk 20k');

  // 25k one-by-one adds with removals and replacements interleaved: tails become segments, segments merge, and
  // the merged segment passes 30k, so it is rebuilt in the three-table layout.
  let nextId = 2;
  for (let k = 0; k < 25_000; k++) {
    const hash = nextHash();
    index.add(nextId, hash);
    entries.set(nextId, hash);
    nextId += 2;
    if (k % 5 === 0) {
      const victim = 1 + 2 * Math.floor(random() * 20_000) + (k % 10 === 0 ? 0 : 1);
      assert.equal(index.remove(victim), entries.delete(victim), `remove ${victim}`);
    }
    if (k % 7 === 0) {
      const replaced = 1 + 2 * Math.floor(random() * 20_000);
      const hash2 = nextHash();
      index.add(replaced, hash2);
      entries.set(replaced, hash2);
    }
    if (k === 3000 || k === 12_000) assertAgreesWithScan(index, entries, queries(), `after ${k} adds`);
  }
  assertAgreesWithScan(index, entries, queries(), 'after 25k adds');
  for (const id of [1, 2, 3, 39_999, nextId - 2, nextId]) assert.equal(index.has(id), entries.has(id), `has ${id}`);

  // Heavy removals: segments compact (tombstones past 1/8) and may fall back below the switch.
  const all = [...entries.keys()];
  for (let k = 0; k < 12_000; k++) {
    const id = all[Math.floor(random() * all.length)];
    assert.equal(index.remove(id), entries.delete(id), `remove ${id}`);
  }
  assertAgreesWithScan(index, entries, queries(), 'after 12k removals');
});

test('a bulk load above the switch (three tables) answers like a full scan and like the four-table layout', () => {
  const random = createRandom(23);
  const bases = Array.from({ length: 100 }, () => createRandomHash(random));
  const nextHash = createLibrary(random, bases);
  const list = Array.from({ length: 40_000 }, (_, i) => ({ id: 40_000 - i, hash: nextHash() })); // unsorted ids
  const large = new HashIndex({ largeLayoutMinEntries: SWITCH });
  large.addMany(list);
  const small = new HashIndex({ largeLayoutMinEntries: Number.POSITIVE_INFINITY });
  small.addMany(list);
  const entries = new Map(list.map((e) => [e.id, e.hash]));
  const queries = Array.from({ length: 12 }, (_, i) => flipBits(list[i * 997].hash, i, random));
  assertAgreesWithScan(large, entries, queries, 'three tables');
  for (const q of queries) for (const r of [0, 10, 11]) assert.deepEqual(large.search(q, r), small.search(q, r));
});

test('many exact duplicates of one hash are all found, nearest first by id', () => {
  const random = createRandom(5);
  const index = new HashIndex({ largeLayoutMinEntries: 1000 });
  const hash = 'f0f0f0f00f0f0f0f';
  // Odd ids: the hash itself; even ids: one bit away. One bucket of each table holds half the library.
  index.addMany(
    Array.from({ length: 3000 }, (_, i) => ({ id: 3000 - i, hash: i % 2 ? hash : flipBits(hash, 1, random) })),
  );
  const hits = index.search(hash, 0);
  assert.equal(hits.length, 1500);
  assert.deepEqual(hits.slice(0, 2), [
    { id: 1, distance: 0 },
    { id: 3, distance: 0 },
  ]);
  assert.deepEqual(index.search(hash, 1, 1502).slice(1499), [
    { id: 2999, distance: 0 },
    { id: 2, distance: 1 },
    { id: 4, distance: 1 },
  ]);
  assert.equal(index.search(hash, 1).length, 3000);
});
