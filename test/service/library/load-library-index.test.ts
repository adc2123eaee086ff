import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase, closeDatabase } from '../../../src/service/store/database.js';
import { HashIndex, loadLibraryIndex, readLibraryHashHalves, formatHash } from '../../../src/service/library/index.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createRandom, createRandomHash, flipBits } from './random-hashes.js';

test(`the start-up load reads every (id, hash) across id ranges and gaps, and searches exactly like a \
row-by-row load`, async (t) => {
  const db = openDatabase(join(await createTempDir(t), 'lib.sqlite'), { migrate: true });
  t.after(() => closeDatabase(db));
  const random = createRandom(11);
  const insert = db.prepare(
    "INSERT INTO library_entries (id, label, hash, source, created_at) VALUES (?, 'x', ?, 'api', " +
      "'2026-12-01T00:00:00.000Z')",
  );
  const bases = Array.from({ length: 40 }, () => createRandomHash(random));
  // Two full 65,536-id ranges and a partial one, holes from
  // deletions, then a lone entry far beyond (an empty range to skip).
  db.transaction(() => {
    for (let id = 1; id <= 140_000; id++)
      insert.run(id, random() < 0.5 ? createRandomHash(random) : flipBits(bases[id % 40], id % 13, random));
    insert.run(5_000_000, bases[0]);
  })();
  db.exec('DELETE FROM library_entries WHERE id % 97 = 0 OR id BETWEEN 70000 AND 70100');

  const rows = db.prepare('SELECT id, hash FROM library_entries ORDER BY id').all() as { id: number; hash: string }[];
  const halves = readLibraryHashHalves(db);
  assert.equal(halves.ids.length, rows.length);
  for (let i = 0; i < rows.length; i++) {
    if (halves.ids[i] !== rows[i].id || formatHash(halves.hi[i], halves.lo[i]) !== rows[i].hash)
      assert.fail(`row ${i}: ${halves.ids[i]} vs ${rows[i].id}`);
  }

  const loaded = loadLibraryIndex(db);
  const byRows = new HashIndex();
  for (const row of rows) byRows.add(row.id, row.hash);
  assert.equal(loaded.size, rows.length);
  for (let i = 0; i < 60; i++) {
    const q = i % 3 === 0 ? createRandomHash(random) : flipBits(bases[i % 40], i % 11, random);
    for (const r of [4, 10, 11]) assert.deepEqual(loaded.search(q, r), byRows.search(q, r), `query ${q} radius ${r}`);
  }
  assert.deepEqual(loaded.search(bases[0], 0).at(-1), { id: 5_000_000, distance: 0 });
});

test('an empty library loads as an empty index', async (t) => {
  const db = openDatabase(join(await createTempDir(t), 'empty.sqlite'), { migrate: true });
  t.after(() => closeDatabase(db));
  const index = loadLibraryIndex(db);
  assert.equal(index.size, 0);
  assert.deepEqual(index.search('0000000000000000', 64), []);
});
