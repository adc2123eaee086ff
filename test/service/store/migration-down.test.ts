// Reverting migrations with their reviewed `down`: copy first,
// then one transaction on the live file; edited downs refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { isDhashError } from '../../../src/lib/errors.js';
import {
  MIGRATIONS,
  applyPendingMigrations,
  closeDatabase,
  getMigrationChecksum,
  getSchemaVersion,
  openDatabase,
  rehearseRevertOnCopy,
  revertMigrationsOnFile,
  type Migration,
} from '../../../src/service/store/index.js';
import { hashDatabaseFiles } from '../../helpers/database-files.js';

const notes: Migration = {
  version: 3,
  name: 'add_notes',
  sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);',
  down: 'DROP TABLE notes;',
};
const all = [...MIGRATIONS, notes];

async function createMigrated(
  t: Parameters<typeof createTempDir>[0],
  migrations: readonly Migration[] = all,
): Promise<string> {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  applyPendingMigrations(db, { migrations });
  db.prepare(
    "INSERT INTO library_entries (label, hash, source, created_at) VALUES ('kept', '0123456789abcdef', 'api', 'x')",
  ).run();
  closeDatabase(db);
  return file;
}

const tables = (file: string) => {
  const db = openDatabase(file);
  try {
    return (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .all() as { name: string }[]
    ).map((r) => r.name);
  } finally {
    closeDatabase(db);
  }
};

test('the down is part of the checksum: a migration without one keeps its old checksum', () => {
  assert.equal(getMigrationChecksum({ sql: 'A' }), getMigrationChecksum({ sql: 'A', down: undefined }));
  assert.notEqual(getMigrationChecksum({ sql: 'A' }), getMigrationChecksum({ sql: 'A', down: 'B' }));
  assert.notEqual(getMigrationChecksum({ sql: 'A', down: 'B' }), getMigrationChecksum({ sql: 'A', down: 'B2' }));
});

test(`rehearses the downs on a copy (live file byte-identical), then reverts the live file in one \
transaction`, async (t) => {
  const file = await createMigrated(t);
  const before = hashDatabaseFiles(file);
  const rehearsal = await rehearseRevertOnCopy(file, [2, 3], all);
  assert.deepEqual(rehearsal, {
    fromVersion: 3,
    toVersion: 1,
    reverted: [
      { version: 3, name: 'add_notes' },
      { version: 2, name: 'change_log' },
    ],
  });
  assert.deepEqual(hashDatabaseFiles(file), before);
  const live = revertMigrationsOnFile(file, [2, 3], all);
  assert.equal(live.toVersion, 1);
  assert.deepEqual(tables(file), ['library_entries', 'review_items', 'schema_migrations']);
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  assert.equal(getSchemaVersion(db), 1);
  assert.equal((db.prepare('SELECT label FROM library_entries').get() as { label: string }).label, 'kept');
});

test('an edited down is refused like an edited up, before anything runs', async (t) => {
  const file = await createMigrated(t);
  const before = hashDatabaseFiles(file);
  const edited = [...MIGRATIONS, { ...notes, down: 'DROP TABLE notes; DROP TABLE library_entries;' }];
  await assert.rejects(
    rehearseRevertOnCopy(file, [3], edited),
    (e) =>
      isDhashError(e, 'EMIGRATIONEDITED') &&
      e.message === 'Migration 3 (add_notes) was edited after it was applied to this database.',
  );
  assert.throws(
    () => revertMigrationsOnFile(file, [3], edited),
    (e) => isDhashError(e, 'EMIGRATIONEDITED') && e.exitCode === 3,
  );
  assert.deepEqual(hashDatabaseFiles(file), before);
});

test(`a failing down leaves the live file byte-identical and names the migration; one without a down \
is refused`, async (t) => {
  const broken: Migration = {
    ...notes,
    version: 4,
    name: 'broken_down',
    sql: 'CREATE TABLE other (a);',
    down: 'DROP TABLE other; DROP TABLE no_such_table;',
  };
  const migrations = [...all, broken];
  const file = await createMigrated(t, migrations);
  const before = hashDatabaseFiles(file);
  await assert.rejects(rehearseRevertOnCopy(file, [3, 4], migrations), (e) => isDhashError(e, 'EMIGRATIONDOWNFAILED'));
  assert.throws(
    () => revertMigrationsOnFile(file, [3, 4], migrations),
    (e) =>
      isDhashError(e, 'EMIGRATIONDOWNFAILED') &&
      e.exitCode === 4 &&
      e.message === 'The down of migration 4 (broken_down) failed, so no migration was reverted.' &&
      e.details.includes('no such table: no_such_table'),
  );
  assert.deepEqual(hashDatabaseFiles(file), before);
  assert.throws(
    () => revertMigrationsOnFile(file, [1], migrations),
    (e) =>
      isDhashError(e, 'EMIGRATIONNODOWN') &&
      e.message === 'Migration 1 (initial) cannot be reverted: it has no reviewed down.',
  );
  assert.deepEqual(hashDatabaseFiles(file), before);
});
