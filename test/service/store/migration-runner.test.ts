import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  applyPendingMigrations,
  assertSchemaCurrent,
  closeDatabase,
  getMigrationChecksum,
  getMigrationStatus,
  getSchemaVersion,
  openDatabase,
  type Migration,
} from '../../../src/service/store/index.js';
import { hashDatabaseFiles } from '../../helpers/database-files.js';

const extra: Migration = {
  version: 2,
  name: 'add_notes',
  sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);',
};
// The runner's behaviour is shown on migration 1 alone plus test migrations; `extraNext` follows the real latest one.
const BASE = MIGRATIONS.slice(0, 1);
const extraNext: Migration = { ...extra, version: LATEST_SCHEMA_VERSION + 1 };
const openAtBase = (file: string) => {
  const db = openDatabase(file);
  applyPendingMigrations(db, { migrations: BASE });
  return db;
};

test('a fresh database is migrated to the latest version with every checksum recorded', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  assert.equal(getSchemaVersion(db), 0);
  const clock = createManualClock(Date.parse('2026-11-28T01:00:00.000Z'));
  const report = applyPendingMigrations(db, { clock });
  assert.deepEqual(
    report.applied.map((m) => [m.version, m.name, m.checksum]),
    MIGRATIONS.map((m) => [m.version, m.name, getMigrationChecksum(m)]),
  );
  assert.equal(report.fromVersion, 0);
  assert.equal(report.toVersion, LATEST_SCHEMA_VERSION);
  const rows = db.prepare('SELECT version, name, checksum, applied_at FROM schema_migrations').all();
  assert.deepEqual(
    rows,
    MIGRATIONS.map((m) => ({
      version: m.version,
      name: m.name,
      checksum: getMigrationChecksum(m),
      applied_at: '2026-11-28T01:00:00.000Z',
    })),
  );
  assert.match(getMigrationChecksum(MIGRATIONS[0]), /^[0-9a-f]{64}$/);
  assert.deepEqual(applyPendingMigrations(db).applied, [], 'a second run applies nothing');
});

test('openDatabase enables WAL, foreign keys and a busy timeout, and can migrate on open', async (t) => {
  const file = join(await createTempDir(t), 'nested', 'db.sqlite');
  const db = openDatabase(file, { migrate: true, busyTimeoutMs: 1234 });
  t.after(() => closeDatabase(db));
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
  assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION);
});

test('a read-only open of a missing file is refused with EDATABASENOTFOUND naming it', async (t) => {
  const file = join(await createTempDir(t), 'missing.sqlite');
  assert.throws(
    () => openDatabase(file, { readonly: true }),
    (e) => isDhashError(e, 'EDATABASENOTFOUND') && e.message === `The database ${file} does not exist.`,
  );
});

test('status lists applied and pending migrations with checksums', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openAtBase(file);
  t.after(() => closeDatabase(db));
  const status = getMigrationStatus(db, { migrations: [...BASE, extra] });
  assert.equal(status.currentVersion, 1);
  assert.equal(status.latestVersion, 2);
  assert.deepEqual(
    status.entries.map((e) => [e.version, e.state, e.checksum]),
    [
      [1, 'applied', getMigrationChecksum(MIGRATIONS[0])],
      [2, 'pending', getMigrationChecksum(extra)],
    ],
  );
  assert.deepEqual(
    status.pending.map((m) => m.version),
    [2],
  );
});

test('an applied migration whose SQL was edited is refused with EMIGRATIONEDITED and nothing runs', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openAtBase(file);
  t.after(() => closeDatabase(db));
  const edited = { ...MIGRATIONS[0], sql: MIGRATIONS[0].sql + '\n-- tweak\n' };
  assert.throws(
    () => applyPendingMigrations(db, { migrations: [edited, extra] }),
    (e) =>
      isDhashError(e, 'EMIGRATIONEDITED') &&
      e.exitCode === 3 &&
      e.message === 'Migration 1 (initial) was edited after it was applied to this database.' &&
      e.details.includes(getMigrationChecksum(edited)),
  );
  assert.equal(getSchemaVersion(db), 1);
  assert.equal(
    db.prepare("SELECT name FROM sqlite_master WHERE name = 'notes'").get(),
    undefined,
    'the pending migration did not run',
  );
});

test('a migration failing midway leaves the database files byte-identical', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const setup = openAtBase(file);
  setup
    .prepare(
      "INSERT INTO library_entries (label, hash, source, created_at) VALUES ('a', '0123456789abcdef', " +
        "'api', '2026-01-01T00:00:00.000Z')",
    )
    .run();
  closeDatabase(setup);
  const before = hashDatabaseFiles(file);
  const failing: Migration = {
    version: 2,
    name: 'fails_midway',
    sql:
      "CREATE TABLE notes (id INTEGER PRIMARY KEY); UPDATE library_entries SET label = 'changed'; INSERT " +
      'INTO no_such_table VALUES (1);',
  };
  const db = openDatabase(file);
  const openBefore = hashDatabaseFiles(file);
  assert.throws(
    () => applyPendingMigrations(db, { migrations: [...BASE, failing] }),
    (e) =>
      isDhashError(e, 'EMIGRATIONFAILED') &&
      e.exitCode === 1 &&
      e.message === 'Migration 2 (fails_midway) failed and was rolled back.' &&
      e.details.includes('no such table: no_such_table'),
  );
  assert.deepEqual(hashDatabaseFiles(file), openBefore, 'db and -wal unchanged while still open');
  assert.equal(getSchemaVersion(db), 1);
  assert.equal((db.prepare('SELECT label FROM library_entries').get() as { label: string }).label, 'a');
  closeDatabase(db);
  assert.deepEqual(hashDatabaseFiles(file), before);
});

test('earlier migrations of a run stay applied when a later one fails', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  const failing: Migration = { version: 3, name: 'broken', sql: 'CREATE TABLE x (a); SELEC 1;' };
  assert.throws(
    () => applyPendingMigrations(db, { migrations: [...BASE, extra, failing] }),
    (e) => isDhashError(e, 'EMIGRATIONFAILED'),
  );
  assert.equal(getSchemaVersion(db), 2);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'x'").get(), undefined);
});

test('serve guard: a database behind is refused with ESCHEMABEHIND saying what to run', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  assert.throws(
    () => assertSchemaCurrent(db),
    (e) =>
      isDhashError(e, 'ESCHEMABEHIND') &&
      e.exitCode === 3 &&
      e.message ===
        `The database ${file} has schema version 0, behind this release's ${LATEST_SCHEMA_VERSION} ` +
          `(${MIGRATIONS.length} pending migrations).` &&
      e.details.includes(`npx dhash migrate --db ${file}`) &&
      e.details.includes('./scripts/migrate_dhash.sh --env <env>'),
  );
  applyPendingMigrations(db);
  assert.doesNotThrow(() => assertSchemaCurrent(db));
  assert.throws(
    () => assertSchemaCurrent(db, { migrations: [...MIGRATIONS, extraNext] }),
    (e) => isDhashError(e, 'ESCHEMABEHIND'),
  );
});

test('a database migrated by a newer release is refused with ESCHEMAAHEAD', async (t) => {
  const file = join(await createTempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => closeDatabase(db));
  applyPendingMigrations(db, { migrations: [...MIGRATIONS, extraNext] });
  assert.throws(
    () => assertSchemaCurrent(db),
    (e) => isDhashError(e, 'ESCHEMAAHEAD') && e.exitCode === 3,
  );
  assert.throws(
    () => applyPendingMigrations(db),
    (e) => isDhashError(e, 'ESCHEMAAHEAD'),
  );
});
