import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { isDhashError } from '../../../src/lib/errors.js';
import {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  applyMigrations,
  applyPendingMigrations,
  closeDatabase,
  dryRunMigrationsOnFile,
  getMigrationChecksum,
  getSchemaVersion,
  openDatabase,
  type Migration,
} from '../../../src/service/store/index.js';
import { hashDatabaseFiles } from '../../helpers/database-files.js';

const backfill: Migration = {
  version: 2,
  name: 'add_kind',
  sql: `ALTER TABLE library_entries ADD COLUMN kind TEXT;
UPDATE library_entries SET kind = 'photo';
CREATE INDEX library_entries_kind ON library_entries (kind);
CREATE TRIGGER library_entries_kind_default AFTER INSERT ON library_entries
  WHEN NEW.kind IS NULL BEGIN UPDATE library_entries SET kind = CASE WHEN NEW.source = 'api' THEN 'api' \
ELSE 'photo' END WHERE id = NEW.id; END;
DROP INDEX library_entries_hash;`,
};

// The dry run is shown on migration 1 plus a test migration 2 (the real migration 2 is left out).
const BASE = MIGRATIONS.slice(0, 1);

function seed(file: string, rows: number): void {
  const db = openDatabase(file);
  applyPendingMigrations(db, { migrations: BASE });
  const insert = db.prepare(
    "INSERT INTO library_entries (label, hash, source, created_at) VALUES (?, '00000000000000ff', 'api', " +
      "'2026-01-01T00:00:00.000Z')",
  );
  for (let i = 0; i < rows; i++) insert.run(`entry ${i}`);
  closeDatabase(db);
}

test('dry run on an open handle reports every statement and leaves the live files byte-identical', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  seed(file, 3);
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  // Uncommitted-to-main-file data sits in the WAL while a service is running: the copy must include it.
  db.prepare(
    "INSERT INTO library_entries (label, hash, source, created_at) VALUES ('wal', '00000000000000ff', 'api', 'x')",
  ).run();
  const before = hashDatabaseFiles(file);
  assert.notEqual(before.wal, 'absent');
  const report = await applyMigrations(db, { isDryRun: true, migrations: [...BASE, backfill] });
  assert.deepEqual(hashDatabaseFiles(file), before);
  assert.equal(getSchemaVersion(db), 1);
  assert.equal(report.ok, true);
  assert.equal(report.databaseExists, true);
  assert.equal(report.fromVersion, 1);
  assert.equal(report.toVersion, 2);
  assert.equal(report.migrations.length, 1);
  assert.equal(report.migrations[0].checksum, getMigrationChecksum(backfill));
  assert.deepEqual(
    report.migrations[0].statements.map((s) => [s.sql.slice(0, 30), s.changes, s.created, s.altered, s.dropped]),
    [
      ['ALTER TABLE library_entries AD', 0, [], ['table library_entries'], []],
      ['UPDATE library_entries SET kin', 4, [], [], []],
      ['CREATE INDEX library_entries_k', 0, ['index library_entries_kind'], [], []],
      ['CREATE TRIGGER library_entries', 0, ['trigger library_entries_kind_default'], [], []],
      ['DROP INDEX library_entries_has', 0, [], [], ['index library_entries_hash']],
    ],
  );
  assert.ok(report.migrations[0].statements.every((s) => s.sql.length <= 80 && !s.sql.includes('\n')));
});

test('dry run by path on a closed database changes no file and leaves no -wal or -shm behind', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'db.sqlite');
  seed(file, 2);
  const before = hashDatabaseFiles(file);
  const listing = readdirSync(dir).sort();
  const report = await dryRunMigrationsOnFile(file, { migrations: [...BASE, backfill] });
  assert.equal(report.toVersion, 2);
  assert.deepEqual(hashDatabaseFiles(file), before);
  assert.deepEqual(readdirSync(dir).sort(), listing);
});

test('dry run of a missing database plans from empty and creates nothing', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'staging', 'shared', 'dhash.sqlite');
  const report = await dryRunMigrationsOnFile(file);
  assert.equal(report.databaseExists, false);
  assert.equal(report.fromVersion, 0);
  assert.equal(report.toVersion, LATEST_SCHEMA_VERSION);
  assert.equal(report.migrations.length, MIGRATIONS.length);
  assert.deepEqual(
    report.migrations[0].statements.flatMap((s) => s.created),
    ['table library_entries', 'index library_entries_hash', 'table review_items', 'index review_items_status'],
  );
  assert.equal(existsSync(join(dir, 'staging')), false);
});

test('dry run of a failing migration reports the statement and reason and changes nothing', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  seed(file, 1);
  const before = hashDatabaseFiles(file);
  const failing: Migration = {
    version: 2,
    name: 'broken',
    sql: 'CREATE TABLE notes (a);\nINSERT INTO nowhere VALUES (1);',
  };
  const report = await dryRunMigrationsOnFile(file, { migrations: [...BASE, failing] });
  assert.equal(report.ok, false);
  assert.deepEqual(report.failure, {
    version: 2,
    name: 'broken',
    statement: 'INSERT INTO nowhere VALUES (1)',
    reason: 'no such table: nowhere',
  });
  assert.equal(report.toVersion, 1);
  assert.deepEqual(hashDatabaseFiles(file), before);
});

test('dry run refuses an edited applied migration like the real run', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  seed(file, 0);
  const edited = { ...MIGRATIONS[0], sql: MIGRATIONS[0].sql.replace('label TEXT', 'title TEXT') };
  await assert.rejects(dryRunMigrationsOnFile(file, { migrations: [edited] }), (e) =>
    isDhashError(e, 'EMIGRATIONEDITED'),
  );
});

test('dry run by path while a service holds the database open reads its WAL and changes neither file', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  seed(file, 0);
  const service = openDatabase(file);
  t.after(() => closeDatabase(service));
  service
    .prepare(
      "INSERT INTO library_entries (label, hash, source, created_at) VALUES ('only in wal', " +
        "'00000000000000ff', 'api', 'x')",
    )
    .run();
  const before = hashDatabaseFiles(file);
  const report = await dryRunMigrationsOnFile(file, { migrations: [...BASE, backfill] });
  assert.equal(report.migrations[0].statements[1].changes, 1, 'the row still in the WAL was copied');
  assert.deepEqual(hashDatabaseFiles(file), before);
});
