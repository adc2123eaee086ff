import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { closeDatabase, openDatabase } from '../../../src/service/store/index.js';
import {
  addLibraryEntry,
  countLibraryEntries,
  deleteLibraryEntry,
  getLibraryEntry,
  listLibraryEntries,
  loadLibraryIndex,
} from '../../../src/service/library/index.js';

async function openMigrated(t: Parameters<typeof createTempDir>[0]) {
  const db = openDatabase(join(await createTempDir(t), 'db.sqlite'), { migrate: true });
  t.after(async () => closeDatabase(db));
  return db;
}

test('adds, gets, pages through and deletes library entries', async (t) => {
  const db = await openMigrated(t);
  const clock = createManualClock(Date.parse('2026-11-28T01:30:00.000Z'));
  const a = addLibraryEntry(db, { label: 'cat', hash: 'ABCDEF0123456789' }, clock);
  assert.deepEqual(a, {
    id: 1,
    label: 'cat',
    hash: 'abcdef0123456789',
    source: 'api',
    createdAt: '2026-11-28T01:30:00.000Z',
  });
  for (let i = 0; i < 4; i++)
    addLibraryEntry(db, { label: `dog ${i}`, hash: '000000000000000' + i, source: 'image' }, clock);
  assert.deepEqual(getLibraryEntry(db, 1), a);
  assert.equal(getLibraryEntry(db, 99), undefined);
  const page = listLibraryEntries(db, { limit: 2, offset: 1 });
  assert.deepEqual(
    page.items.map((e) => e.id),
    [2, 3],
  );
  assert.deepEqual([page.total, page.limit, page.offset], [5, 2, 1]);
  assert.deepEqual(listLibraryEntries(db, { offset: 5 }).items, []);
  assert.deepEqual(deleteLibraryEntry(db, 2).label, 'dog 0');
  assert.equal(countLibraryEntries(db), 4);
  assert.throws(
    () => deleteLibraryEntry(db, 2),
    (e) => isDhashError(e, 'ELIBRARYENTRYNOTFOUND') && e.message === 'Library entry 2 does not exist.',
  );
});

test('rejects bad hashes, labels and paging with the offending field named', async (t) => {
  const db = await openMigrated(t);
  assert.throws(
    () => addLibraryEntry(db, { label: 'x', hash: '0123' }),
    (e) => isDhashError(e, 'EINVALIDHASH') && e.message.includes('`0123`'),
  );
  assert.throws(
    () => addLibraryEntry(db, { label: ' ', hash: '0123456789abcdef' }),
    (e) => isDhashError(e, 'EINVALIDOPTION') && e.message.startsWith('Expected the `label` option'),
  );
  assert.throws(
    () => listLibraryEntries(db, { limit: 1001 }),
    (e) =>
      isDhashError(e, 'EINVALIDOPTION') &&
      e.message === 'Expected the `limit` option to be an integer from 1 to 1000, got `1001` (number).',
  );
  assert.throws(
    () => listLibraryEntries(db, { offset: -1 }),
    (e) => isDhashError(e, 'EINVALIDOPTION') && e.message.includes('`offset`'),
  );
  assert.doesNotThrow(() => listLibraryEntries(db, { limit: 1000 }));
});

test('loadLibraryIndex builds a searchable index of every entry', async (t) => {
  const db = await openMigrated(t);
  addLibraryEntry(db, { label: 'a', hash: '0000000000000000' });
  addLibraryEntry(db, { label: 'b', hash: '000000000000001f' });
  addLibraryEntry(db, { label: 'c', hash: 'ffffffffffffffff' });
  const index = loadLibraryIndex(db);
  assert.equal(index.size, 3);
  assert.deepEqual(index.search('0000000000000000', 10), [
    { id: 1, distance: 0 },
    { id: 2, distance: 5 },
  ]);
});
