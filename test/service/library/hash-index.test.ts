import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashIndex, getChunkRadii, type IndexHit } from '../../../src/service/library/hash-index.js';
import { getHammingDistance, parseHash } from '../../../src/service/library/hash-bits.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { createRandom, createRandomHash, flipBits } from './random-hashes.js';

const parsed = new Map<string, ReturnType<typeof parseHash>>();
const parseCached = (h: string) => parsed.get(h) ?? parsed.set(h, parseHash(h)).get(h)!;

function searchByScan(entries: Map<number, string>, hash: string, maxDistance: number, limit = Infinity): IndexHit[] {
  const q = parseHash(hash);
  const hits: IndexHit[] = [];
  for (const [id, h] of entries) {
    const distance = getHammingDistance(q, parseCached(h));
    if (distance <= maxDistance) hits.push({ id, distance });
  }
  hits.sort((a, b) => a.distance - b.distance || a.id - b.id);
  return hits.slice(0, limit);
}

const RADII = [0, 1, 3, 4, 7, 8, 10, 11, 12, 15, 16, 20];

function assertAgreesWithScan(index: HashIndex, entries: Map<number, string>, queries: string[], label: string): void {
  assert.equal(index.size, entries.size, `${label}: size`);
  for (const q of queries) {
    for (const r of RADII)
      assert.deepEqual(index.search(q, r), searchByScan(entries, q, r), `${label}: query ${q} radius ${r}`);
  }
}

test('search agrees with a full scan on seeded random hashes, through adds, removals and rebuilds', () => {
  const random = createRandom(42);
  const index = new HashIndex({ tailLimit: 2048 });
  const entries = new Map<number, string>();
  const bases = Array.from({ length: 300 }, () => createRandomHash(random));
  let nextId = 1;
  const addOne = (hash: string) => {
    index.add(nextId, hash);
    entries.set(nextId, hash);
    nextId++;
  };
  // Clusters of near-duplicates (0..14 bits away) around the bases, so every radius has hits.
  for (let i = 0; i < 6000; i++)
    addOne(
      random() < 0.5 ? createRandomHash(random) : flipBits(bases[i % bases.length], Math.floor(random() * 15), random),
    );
  const queries = () =>
    Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0
        ? createRandomHash(random)
        : flipBits(bases[Math.floor(random() * bases.length)], Math.floor(random() * 13), random),
    );
  assertAgreesWithScan(index, entries, queries(), 'after adds');

  const ids = [...entries.keys()];
  for (let i = 0; i < 2500; i++) {
    const id = ids[Math.floor(random() * ids.length)];
    assert.equal(index.remove(id), entries.delete(id));
  }
  assertAgreesWithScan(index, entries, queries(), 'after removals');

  // A few hundred more: these sit in the tail (not a segment yet).
  for (let i = 0; i < 500; i++) addOne(flipBits(bases[i % bases.length], i % 12, random));
  assertAgreesWithScan(index, entries, queries(), 'after re-adding');
});

test('bulk load answers like one-by-one adds', () => {
  const random = createRandom(7);
  const list = Array.from({ length: 3000 }, (_, i) => ({ id: i + 10, hash: createRandomHash(random) }));
  const bulk = new HashIndex();
  bulk.addMany(list);
  const entries = new Map(list.map((e) => [e.id, e.hash]));
  assertAgreesWithScan(
    bulk,
    entries,
    list.slice(0, 20).map((e) => flipBits(e.hash, 5, random)),
    'bulk',
  );
});

test('distance exactly maxDistance is included and maxDistance + 1 is excluded', () => {
  const random = createRandom(3);
  const base = createRandomHash(random);
  for (const r of [0, 3, 4, 10, 12, 16, 40]) {
    const index = new HashIndex();
    index.add(1, flipBits(base, r, random));
    index.add(2, flipBits(base, r + 1, random));
    assert.deepEqual(index.search(base, r), [{ id: 1, distance: r }], `radius ${r}`);
    assert.deepEqual(
      index.search(base, r + 1),
      [
        { id: 1, distance: r },
        { id: 2, distance: r + 1 },
      ],
      `radius ${r + 1}`,
    );
  }
});

test('results are ordered by distance then id and cut at the limit', () => {
  const index = new HashIndex();
  index.add(30, '0000000000000003');
  index.add(20, '0000000000000001');
  index.add(10, '0000000000000002');
  index.add(5, '0000000000000000');
  assert.deepEqual(index.search('0000000000000000', 10), [
    { id: 5, distance: 0 },
    { id: 10, distance: 1 },
    { id: 20, distance: 1 },
    { id: 30, distance: 2 },
  ]);
  assert.deepEqual(index.search('0000000000000000', 10, 2), [
    { id: 5, distance: 0 },
    { id: 10, distance: 1 },
  ]);
});

test('adding an existing id replaces its hash; removing an unknown id returns false', () => {
  const index = new HashIndex();
  index.add(1, 'ffffffffffffffff');
  index.add(1, '0000000000000000');
  assert.equal(index.size, 1);
  assert.deepEqual(index.search('ffffffffffffffff', 10), []);
  assert.deepEqual(index.search('0000000000000000', 0), [{ id: 1, distance: 0 }]);
  assert.equal(index.remove(99), false);
  assert.equal(index.remove(1), true);
  assert.deepEqual(index.search('0000000000000000', 64), []);
});

test('malformed hashes and radii are rejected', () => {
  const index = new HashIndex();
  assert.throws(
    () => index.add(1, 'xyz'),
    (e) =>
      isDhashError(e, 'EINVALIDHASH') &&
      e.message === 'Expected `hash` to be a 16-digit hexadecimal dhash, got `xyz` (string).',
  );
  assert.throws(() => index.search('0000000000000000', -1), RangeError);
  assert.deepEqual(index.search('ABCDEF0123456789', 0), [], 'upper case is accepted');
});

test(`per-chunk radii follow the tightened pigeonhole: r = 4s + t searches t + 1 chunks at s, the rest at s - \
1`, () => {
  assert.deepEqual(getChunkRadii(0), [0, -1, -1, -1]);
  assert.deepEqual(getChunkRadii(3), [0, 0, 0, 0]);
  assert.deepEqual(getChunkRadii(4), [1, 0, 0, 0]);
  assert.deepEqual(getChunkRadii(10), [2, 2, 2, 1]);
  assert.deepEqual(getChunkRadii(11), [2, 2, 2, 2]);
});

test('agrees with a full scan after compactions triggered by many adds and many removals, at radii 10 and 11', () => {
  const random = createRandom(2026);
  const index = new HashIndex({ tailLimit: 1024 });
  const entries = new Map<number, string>();
  const bases = Array.from({ length: 50 }, () => createRandomHash(random));
  const nearBase = () => flipBits(bases[Math.floor(random() * bases.length)], Math.floor(random() * 14), random);
  // 5000 one-by-one adds: the tail fills up several times, becomes segments and those merge along the way.
  for (let id = 1; id <= 5000; id++) {
    const hash = random() < 0.3 ? createRandomHash(random) : nearBase();
    index.add(id, hash);
    entries.set(id, hash);
  }
  // 2000 removals (a segment's tombstones pass 1024: it is compacted) and 500 re-adds of ids with new hashes.
  for (let i = 0; i < 2000; i++) {
    const id = 1 + Math.floor(random() * 5000);
    assert.equal(index.remove(id), entries.delete(id), `remove ${id}`);
  }
  for (let i = 0; i < 500; i++) {
    const id = 1 + Math.floor(random() * 6000);
    const hash = nearBase();
    index.add(id, hash);
    entries.set(id, hash);
  }
  assert.equal(index.size, entries.size);
  for (let i = 0; i < 30; i++) {
    const q = nearBase();
    for (const r of [10, 11])
      assert.deepEqual(index.search(q, r), searchByScan(entries, q, r), `query ${q} radius ${r}`);
  }
  for (const id of [1, 2500, 5000, 5999]) assert.equal(index.has(id), entries.has(id), `has ${id}`);
});

test('bulk loads take unsorted ids, keep the last of duplicate ids, and merge into a non-empty index', () => {
  const random = createRandom(99);
  const hashes = Array.from({ length: 2000 }, () => createRandomHash(random));
  const list = hashes.map((hash, i) => ({ id: 1 + ((i * 7919) % 1500), hash })); // unsorted, 500 duplicate ids
  const entries = new Map<number, string>();
  for (const e of list) entries.set(e.id, e.hash);
  const index = new HashIndex();
  index.add(100_000, hashes[0]);
  entries.set(100_000, hashes[0]);
  index.add(7, '0000000000000000'); // replaced by the bulk load's id 7
  index.addMany(list);
  assert.equal(index.size, entries.size);
  assertAgreesWithScan(
    index,
    entries,
    hashes.slice(0, 8).map((h) => flipBits(h, 4, random)),
    'bulk merge',
  );
  assert.deepEqual(index.search('0000000000000000', 0), searchByScan(entries, '0000000000000000', 0));
});

test('addHalves loads parallel typed arrays and answers like addMany over the same entries', () => {
  const random = createRandom(5);
  const n = 3000;
  const ids = new Float64Array(n);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const list: { id: number; hash: string }[] = [];
  for (let i = 0; i < n; i++) {
    const hash = createRandomHash(random);
    const parsedHash = parseHash(hash);
    ids[i] = i * 3 + 1;
    hi[i] = parsedHash.hi;
    lo[i] = parsedHash.lo;
    list.push({ id: ids[i], hash });
  }
  const fromHalves = new HashIndex();
  fromHalves.addHalves(ids, hi, lo);
  const fromList = new HashIndex();
  fromList.addMany(list);
  for (const e of list.slice(0, 40)) {
    const q = flipBits(e.hash, 9, random);
    assert.deepEqual(fromHalves.search(q, 10), fromList.search(q, 10));
  }
  assert.throws(() => fromHalves.addHalves(new Float64Array(2), new Uint32Array(1), new Uint32Array(2)), RangeError);
});
