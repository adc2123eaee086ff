// The PostgreSQL migration runner on a real PostgreSQL 15: checksums, refusals, dry run, down, concurrent migrators.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  getDialectChecksum,
  type Migration,
} from '../../../src/service/store/index.js';
import {
  applyPendingPostgresMigrations,
  assertPostgresSchemaCurrent,
  createPostgresPool,
  dryRunPostgresMigrations,
  getPostgresMigrationStatus,
  getPostgresSchemaVersion,
  rehearsePostgresRevert,
  revertPostgresMigrations,
} from '../../../src/service/store/postgres/index.js';

let server: Promise<PostgresServer> | undefined;
let databases = 0;
after(async () => {
  if (server) await (await server).stop();
});

/** A fresh database on the file's server, and a pool on it closed when the test ends. */
async function createPool(t: TestContext): Promise<{ pool: pg.Pool; database: string; url: string }> {
  const postgres = await (server ??= startPostgres());
  const name = `migrations_${++databases}`;
  const url = await postgres.createDatabase(name);
  const pool = createPostgresPool(url);
  t.after(() => pool.end());
  return { pool, database: `postgres://dhash@127.0.0.1:${postgres.port}/${name}`, url };
}

const notes: Migration = {
  version: LATEST_SCHEMA_VERSION + 1,
  name: 'add_notes',
  sql: 'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);',
  down: 'DROP TABLE notes;',
  isBackwardCompatible: true,
};
const withNotes = [...MIGRATIONS, notes];

/** Everything a migration could change: each table's columns, the indexes, and every row of every table. */
async function fingerprint(pool: pg.Pool): Promise<unknown> {
  const columns = await pool.query(
    'SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns ' +
      "WHERE table_schema = 'public' " +
      'ORDER BY table_name, ordinal_position',
  );
  const indexes = await pool.query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1");
  const tables = [...new Set(columns.rows.map((r: { table_name: string }) => r.table_name))];
  const rows: Record<string, unknown[]> = {};
  for (const table of tables) rows[table] = (await pool.query(`SELECT * FROM "${table}" ORDER BY 1`)).rows;
  return { columns: columns.rows, indexes: indexes.rows, rows };
}

async function insertEntry(pool: pg.Pool, label: string): Promise<void> {
  await pool.query(
    "INSERT INTO library_entries (label, hash, source, created_at) VALUES ($1, '0123456789abcdef', 'api', 'x')",
    [label],
  );
}

test('a fresh database is migrated with each PostgreSQL checksum recorded; a second run applies nothing', async (t) => {
  const { pool } = await createPool(t);
  const clock = createManualClock(Date.parse('2026-12-01T09:00:00.000Z'));
  const report = await applyPendingPostgresMigrations(pool, { clock });
  assert.deepEqual(
    report.applied.map((m) => [m.version, m.name, m.checksum]),
    MIGRATIONS.map((m) => [m.version, m.name, getDialectChecksum(m, 'postgres')]),
  );
  assert.deepEqual([report.fromVersion, report.toVersion], [0, LATEST_SCHEMA_VERSION]);
  const rows = await pool.query('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
  assert.deepEqual(
    rows.rows,
    MIGRATIONS.map((m) => ({
      version: m.version,
      name: m.name,
      checksum: getDialectChecksum(m, 'postgres'),
      applied_at: '2026-12-01T09:00:00.000Z',
    })),
  );
  // PostgreSQL runs its own text where the dialects differ, so it records that text's checksum, not SQLite's.
  assert.notEqual(getDialectChecksum(MIGRATIONS[0], 'postgres'), getDialectChecksum(MIGRATIONS[0], 'sqlite'));
  assert.deepEqual((await applyPendingPostgresMigrations(pool)).applied, []);
  assert.equal(await getPostgresSchemaVersion(pool), LATEST_SCHEMA_VERSION);
});

test('status lists applied and pending migrations with checksums and each isBackwardCompatible flag', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool);
  const status = await getPostgresMigrationStatus(pool, { migrations: withNotes });
  assert.deepEqual(
    status.entries.map((e) => [e.version, e.state, e.checksum, e.isBackwardCompatible]),
    [
      [1, 'applied', getDialectChecksum(MIGRATIONS[0], 'postgres'), false],
      [2, 'applied', getDialectChecksum(MIGRATIONS[1], 'postgres'), true],
      [notes.version, 'pending', getDialectChecksum(notes, 'postgres'), true],
    ],
  );
  assert.deepEqual(
    status.pending.map((m) => m.version),
    [notes.version],
  );
});

test('an applied migration whose PostgreSQL text was edited is refused (EMIGRATIONEDITED); nothing runs', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool, { migrations: MIGRATIONS.slice(0, 1) });
  const first = MIGRATIONS[0];
  const edited: Migration = { ...first, postgres: { sql: `${first.postgres!.sql}\n-- tweak\n` } };
  await assert.rejects(
    applyPendingPostgresMigrations(pool, { migrations: [edited, notes] }),
    (e) =>
      isDhashError(e, 'EMIGRATIONEDITED') &&
      e.exitCode === 3 &&
      e.message === 'Migration 1 (initial) was edited after it was applied to this database.' &&
      e.details.includes(getDialectChecksum(edited, 'postgres')),
  );
  assert.equal(await getPostgresSchemaVersion(pool), 1);
  assert.equal((await pool.query("SELECT to_regclass('notes') AS t")).rows[0].t, null, 'the pending one did not run');
});

test('a database migrated by a newer release is refused (ESCHEMAAHEAD), named without its password', async (t) => {
  const { pool, database } = await createPool(t);
  await applyPendingPostgresMigrations(pool, { migrations: withNotes });
  const expected =
    `The database ${database} has schema version ${notes.version}, ` +
    `newer than this release knows (${LATEST_SCHEMA_VERSION}).`;
  await assert.rejects(
    applyPendingPostgresMigrations(pool),
    (e) => isDhashError(e, 'ESCHEMAAHEAD') && e.exitCode === 3 && e.message === expected,
  );
  await assert.rejects(assertPostgresSchemaCurrent(pool), (e) => isDhashError(e, 'ESCHEMAAHEAD'));
});

test('a migration failing midway is rolled back whole (EMIGRATIONFAILED), earlier ones stay applied', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool);
  await insertEntry(pool, 'kept');
  const before = await fingerprint(pool);
  const failing: Migration = {
    version: LATEST_SCHEMA_VERSION + 1,
    name: 'fails_midway',
    sql: "CREATE TABLE notes (id BIGINT); UPDATE library_entries SET label = 'changed'; INSERT INTO nope VALUES (1);",
  };
  await assert.rejects(
    applyPendingPostgresMigrations(pool, { migrations: [...MIGRATIONS, failing] }),
    (e) =>
      isDhashError(e, 'EMIGRATIONFAILED') &&
      e.message === `Migration ${failing.version} (fails_midway) failed and was rolled back.` &&
      e.details.startsWith('PostgreSQL said: relation "nope" does not exist.'),
  );
  assert.deepEqual(await fingerprint(pool), before);
});

test('a dry run reports each statement and changes nothing, also when a migration fails', async (t) => {
  const { pool, database } = await createPool(t);
  await applyPendingPostgresMigrations(pool, { migrations: MIGRATIONS.slice(0, 1) });
  await insertEntry(pool, 'a');
  await insertEntry(pool, 'b');
  const before = await fingerprint(pool);
  const relabel: Migration = {
    version: LATEST_SCHEMA_VERSION + 1,
    name: 'relabel',
    sql: "ALTER TABLE library_entries ADD COLUMN note TEXT; UPDATE library_entries SET note = 'n';",
  };
  const report = await dryRunPostgresMigrations(pool, { migrations: [...MIGRATIONS, relabel] });
  assert.deepEqual(await fingerprint(pool), before, 'the dry run changed nothing');
  assert.equal(report.ok, true);
  assert.deepEqual(
    [report.file, report.databaseExists, report.fromVersion, report.toVersion],
    [database, true, 1, relabel.version],
  );
  assert.deepEqual(report.migrations[0].statements, [
    {
      sql: 'CREATE TABLE change_log ( seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, …',
      changes: 0,
      created: ['table change_log'],
      dropped: [],
      altered: [],
    },
  ]);
  assert.deepEqual(report.migrations[1].statements, [
    {
      sql: 'ALTER TABLE library_entries ADD COLUMN note TEXT',
      changes: 0,
      created: [],
      dropped: [],
      altered: ['table library_entries'],
    },
    { sql: "UPDATE library_entries SET note = 'n'", changes: 2, created: [], dropped: [], altered: [] },
  ]);

  const failing: Migration = {
    version: relabel.version,
    name: 'broken',
    sql: 'CREATE TABLE t1 (id INT); SELECT nope;',
  };
  const failed = await dryRunPostgresMigrations(pool, { migrations: [...MIGRATIONS, failing] });
  assert.equal(failed.ok, false);
  assert.equal(failed.toVersion, LATEST_SCHEMA_VERSION, 'the version before the failing migration');
  assert.deepEqual(failed.failure, {
    version: failing.version,
    name: 'broken',
    statement: 'SELECT nope',
    reason: 'column "nope" does not exist',
  });
  assert.deepEqual(await fingerprint(pool), before, 'the failed dry run changed nothing either');
});

test('down reverts the named migrations in one transaction and keeps the data of the others', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool, { migrations: withNotes });
  await insertEntry(pool, 'kept');
  await pool.query("INSERT INTO notes VALUES (1, 'gone with its table')");
  const report = await revertPostgresMigrations(pool, [2, notes.version], withNotes);
  assert.deepEqual(report, {
    fromVersion: notes.version,
    toVersion: 1,
    reverted: [
      { version: notes.version, name: 'add_notes' },
      { version: 2, name: 'change_log' },
    ],
  });
  const tables = await pool.query("SELECT to_regclass('notes') AS notes, to_regclass('change_log') AS log");
  assert.deepEqual(tables.rows[0], { notes: null, log: null });
  assert.deepEqual((await pool.query('SELECT label FROM library_entries')).rows, [{ label: 'kept' }]);
  // Reverted cleanly: the same migrations apply again (the identity's sequence went with its table).
  assert.deepEqual(
    (await applyPendingPostgresMigrations(pool, { migrations: withNotes })).applied.map((m) => m.version),
    [2, notes.version],
  );
});

test('a failing down leaves the database unchanged (EMIGRATIONDOWNFAILED); its rehearsal fails the same', async (t) => {
  const { pool, database } = await createPool(t);
  const badDown: Migration = {
    version: notes.version + 1,
    name: 'bad_down',
    sql: 'SELECT 1;',
    down: 'DROP TABLE nope;',
  };
  const migrations = [...withNotes, badDown];
  await applyPendingPostgresMigrations(pool, { migrations });
  await pool.query("INSERT INTO notes VALUES (1, 'still here')");
  const before = await fingerprint(pool);
  const isDownFailure = (e: unknown) =>
    isDhashError(e, 'EMIGRATIONDOWNFAILED') &&
    e.exitCode === 4 &&
    e.message === `The down of migration ${badDown.version} (bad_down) failed, so no migration was reverted.` &&
    e.details.startsWith(
      `PostgreSQL said: table "nope" does not exist. All downs run in one transaction, so ${database}`,
    );
  await assert.rejects(rehearsePostgresRevert(pool, [notes.version, badDown.version], migrations), isDownFailure);
  await assert.rejects(revertPostgresMigrations(pool, [notes.version, badDown.version], migrations), isDownFailure);
  assert.deepEqual(await fingerprint(pool), before);
});

test('a rehearsed revert reports what the live one would and changes nothing', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool, { migrations: withNotes });
  const before = await fingerprint(pool);
  const report = await rehearsePostgresRevert(pool, [notes.version], withNotes);
  assert.deepEqual(report.reverted, [{ version: notes.version, name: 'add_notes' }]);
  assert.equal(report.toVersion, LATEST_SCHEMA_VERSION);
  assert.deepEqual(await fingerprint(pool), before);
});

test('a migration without a PostgreSQL down is refused before anything runs (EMIGRATIONNODOWN)', async (t) => {
  const { pool } = await createPool(t);
  await applyPendingPostgresMigrations(pool);
  const before = await fingerprint(pool);
  await assert.rejects(
    revertPostgresMigrations(pool, [1, 2]),
    (e) =>
      isDhashError(e, 'EMIGRATIONNODOWN') &&
      e.message === 'Migration 1 (initial) cannot be reverted: it has no reviewed down.',
  );
  assert.deepEqual(await fingerprint(pool), before);
});

test('two migrators at once take turns: each migration is applied exactly once', async (t) => {
  const { pool, url } = await createPool(t);
  const second = createPostgresPool(url);
  t.after(() => second.end());
  const [a, b] = await Promise.all([applyPendingPostgresMigrations(pool), applyPendingPostgresMigrations(second)]);
  assert.deepEqual(
    [...a.applied, ...b.applied].map((m) => m.version).sort(),
    MIGRATIONS.map((m) => m.version),
  );
  const rows = await pool.query('SELECT count(*)::int AS n FROM schema_migrations');
  assert.equal(rows.rows[0].n, MIGRATIONS.length);
});
