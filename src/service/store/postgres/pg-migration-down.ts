// Reverts applied migrations on PostgreSQL with their reviewed down, all in one transaction; a rehearsal rolls back.
import type pg from 'pg';
import { createError, isDhashError } from '../../../lib/errors.js';
import { MIGRATIONS, type Migration } from '../migrations/migration-list.js';
import { getMigrationText } from '../migration-dialect.js';
import { assertStatusMigratable, MIGRATIONS_TABLE, planRevert } from '../migration-status.js';
import type { RevertReport } from '../migration-down.js';
import { describeClient, withPgClient, type PgConnection } from './pg-connection.js';
import { readStatus, withMigrationLock } from './pg-migration-runner.js';

/**
 * The migrations to revert, newest first. Refuses (before anything runs) an edited migration (EMIGRATIONEDITED), a
 * version that is not applied, and one without a PostgreSQL down (EMIGRATIONNODOWN).
 */
export function getPostgresRevertPlan(
  connection: PgConnection,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<Migration[]> {
  return withPgClient(connection, (client) => planOn(client, versions, migrations));
}

async function planOn(client: pg.Client, versions: readonly number[], migrations: readonly Migration[]) {
  const status = assertStatusMigratable(await readStatus(client, migrations), describeClient(client));
  return planRevert(status, versions, migrations, 'postgres');
}

/**
 * Runs every down and removes its bookkeeping row in ONE transaction: all reverted, or (on any error) nothing
 * changed (PostgreSQL rolls DDL back too). The service must be stopped, or on a schema the previous release reads.
 */
export function revertPostgresMigrations(
  connection: PgConnection,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<RevertReport> {
  return withPgClient(connection, (client) =>
    withMigrationLock(client, () => revertOn(client, versions, migrations, true)),
  );
}

/**
 * The same revert, rolled back at the end: proves the downs run on this very database (its data, its locks) and
 * throws what the live run would, changing nothing. PostgreSQL's answer to SQLite's rehearsal on a copy.
 */
export function rehearsePostgresRevert(
  connection: PgConnection,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<RevertReport> {
  return withPgClient(connection, (client) =>
    withMigrationLock(client, () => revertOn(client, versions, migrations, false)),
  );
}

async function revertOn(
  client: pg.Client,
  versions: readonly number[],
  migrations: readonly Migration[],
  shouldCommit: boolean,
): Promise<RevertReport> {
  const database = describeClient(client);
  const fromVersion = (await readStatus(client, migrations)).currentVersion;
  let plan: Migration[] = [];
  let current: Migration | undefined;
  await client.query('BEGIN');
  try {
    plan = await planOn(client, versions, migrations);
    for (const migration of plan) {
      current = migration;
      await client.query(getMigrationText(migration, 'postgres').down!);
      await client.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE version = $1`, [migration.version]);
    }
    const toVersion = (await readStatus(client, migrations)).currentVersion;
    await client.query(shouldCommit ? 'COMMIT' : 'ROLLBACK');
    return { fromVersion, toVersion, reverted: plan.map((m) => ({ version: m.version, name: m.name })) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (isDhashError(error) || !current) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw createError(
      'EMIGRATIONDOWNFAILED',
      { file: database, version: current.version, name: current.name, reason, engine: 'PostgreSQL' },
      error,
    );
  }
}
