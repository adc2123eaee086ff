// Applies the versioned migrations to PostgreSQL with SQLite's semantics: one transaction each, checksums recorded,
// an edited migration or a database ahead refused before anything runs.
import type pg from 'pg';
import { createError } from '../../../lib/errors.js';
import { createSystemClock, type Clock } from '../../../lib/clock.js';
import { MIGRATIONS, type Migration } from '../migrations/migration-list.js';
import { getDialectChecksum, getMigrationText } from '../migration-dialect.js';
import {
  CREATE_MIGRATIONS_TABLE,
  MIGRATIONS_TABLE,
  assertStatusCurrent,
  assertStatusMigratable,
  computeMigrationStatus,
  type AppliedMigrationRow,
  type MigrationStatus,
} from '../migration-status.js';
import type { AppliedMigration, MigrationRunOptions, MigrationRunReport } from '../migration-runner.js';
import { describeClient, withPgClient, withPgTransaction, type PgConnection } from './pg-connection.js';

/** Migrators and reverts on one database take turns on this lock. */
const MIGRATION_LOCK_KEY = 0x64686d67; // "dhmg"

export async function hasPostgresMigrationsTable(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    MIGRATIONS_TABLE,
  ]);
  return result.rows[0].found;
}

async function readAppliedRows(client: pg.Client): Promise<AppliedMigrationRow[]> {
  if (!(await hasPostgresMigrationsTable(client))) return [];
  const result = await client.query<AppliedMigrationRow>(
    `SELECT version, name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`,
  );
  return result.rows.map((row) => ({ ...row, version: Number(row.version) }));
}

/** The highest applied version; 0 for a database no migration has touched. */
export function getPostgresSchemaVersion(connection: PgConnection): Promise<number> {
  return withPgClient(connection, async (client) => {
    if (!(await hasPostgresMigrationsTable(client))) return 0;
    const result = await client.query<{ version: number | null }>(
      `SELECT MAX(version) AS version FROM ${MIGRATIONS_TABLE}`,
    );
    return Number(result.rows[0].version ?? 0);
  });
}

export function getPostgresMigrationStatus(
  connection: PgConnection,
  options: Pick<MigrationRunOptions, 'migrations'> = {},
): Promise<MigrationStatus> {
  return withPgClient(connection, (client) => readStatus(client, options.migrations ?? MIGRATIONS));
}

/** The status read on one client (inside the caller's transaction, when it has one). */
export async function readStatus(client: pg.Client, migrations: readonly Migration[]): Promise<MigrationStatus> {
  return computeMigrationStatus(await readAppliedRows(client), migrations, 'postgres');
}

/** Throws the refusal (EMIGRATIONEDITED, ESCHEMAAHEAD) that forbids running anything; returns the status otherwise. */
export function assertPostgresMigratable(
  connection: PgConnection,
  options: Pick<MigrationRunOptions, 'migrations'> = {},
): Promise<MigrationStatus> {
  return withPgClient(connection, async (client) =>
    assertStatusMigratable(await readStatus(client, options.migrations ?? MIGRATIONS), describeClient(client)),
  );
}

/** `serve` calls this: a database behind (ESCHEMABEHIND) or ahead of this release is refused with what to run. */
export function assertPostgresSchemaCurrent(
  connection: PgConnection,
  options: Pick<MigrationRunOptions, 'migrations'> = {},
): Promise<void> {
  return withPgClient(connection, async (client) =>
    assertStatusCurrent(await readStatus(client, options.migrations ?? MIGRATIONS), describeClient(client), 'postgres'),
  );
}

/** Writes the bookkeeping row (creating the table on first use); call inside the migration's transaction. */
export async function recordPostgresMigration(client: pg.Client, migration: Migration, clock: Clock): Promise<void> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`, [
    migration.version,
    migration.name,
    getDialectChecksum(migration, 'postgres'),
    new Date(clock.now()).toISOString(),
  ]);
}

/**
 * Runs `fn` holding the migration lock for the session, taken before `fn` reads anything and outside any
 * transaction: each statement after it starts a transaction of its own, which sees the other migrator's tables.
 * (Taken inside an open transaction, a table the other one created meanwhile can stay invisible to this one.)
 */
export async function withMigrationLock<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/** Runs one migration and its bookkeeping row in a single transaction; PostgreSQL rolls all of it back on error. */
async function applyOneMigration(client: pg.Client, migration: Migration, clock: Clock): Promise<AppliedMigration> {
  const startedMs = clock.now();
  const checksum = getDialectChecksum(migration, 'postgres');
  try {
    await withPgTransaction(client, async () => {
      await client.query(getMigrationText(migration, 'postgres').sql);
      await recordPostgresMigration(client, migration, clock);
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw createError(
      'EMIGRATIONFAILED',
      { version: migration.version, name: migration.name, reason, engine: 'PostgreSQL' },
      error,
    );
  }
  return { version: migration.version, name: migration.name, checksum, durationMs: clock.now() - startedMs };
}

/**
 * Applies every pending migration in order; stops at the first failure (earlier ones stay committed). Two migrators
 * on one database (two hosts of a fleet) take turns on the migration lock: the second finds the work done.
 */
export function applyPendingPostgresMigrations(
  connection: PgConnection,
  options: MigrationRunOptions = {},
): Promise<MigrationRunReport> {
  const clock = options.clock ?? createSystemClock();
  const migrations = options.migrations ?? MIGRATIONS;
  return withPgClient(connection, (client) =>
    withMigrationLock(client, async () => {
      const status = assertStatusMigratable(await readStatus(client, migrations), describeClient(client));
      const applied: AppliedMigration[] = [];
      for (const migration of status.pending) applied.push(await applyOneMigration(client, migration, clock));
      return {
        fromVersion: status.currentVersion,
        toVersion: (await readStatus(client, migrations)).currentVersion,
        applied,
      };
    }),
  );
}
