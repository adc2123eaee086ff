// Dry run on PostgreSQL: its DDL is transactional, so the pending migrations run for real inside one transaction,
// each statement's effect is measured, and everything is rolled back.
import type pg from 'pg';
import { createSystemClock } from '../../../lib/clock.js';
import { MIGRATIONS, type Migration } from '../migrations/migration-list.js';
import { getDialectChecksum, getMigrationText } from '../migration-dialect.js';
import { assertStatusMigratable, MIGRATIONS_TABLE } from '../migration-status.js';
import type { MigrationRunOptions } from '../migration-runner.js';
import type { DryRunMigration, MigrationDryRunReport, StatementEffect } from '../migration-dry-run.js';
import { abbreviateSql, splitSqlStatements } from '../split-sql.js';
import { describeStatementEffect } from '../statement-effect.js';
import { describeClient, withPgClient, type PgConnection } from './pg-connection.js';
import { readStatus, recordPostgresMigration } from './pg-migration-runner.js';
import { readPostgresSchemaObjects } from './pg-schema-objects.js';

export interface PostgresDryRunOptions extends MigrationRunOptions {
  /**
   * How long a statement may wait for a lock held by the live service before the dry run gives up (default 5000):
   * DDL locks its table until the ROLLBACK, and a dry run must never stall the service for long.
   */
  lockTimeoutMs?: number;
}

/**
 * Runs the pending migrations statement by statement in one transaction (a savepoint per migration, so a failing one
 * is reported with the state before it) and rolls everything back: the database is left exactly as it was.
 */
export function dryRunPostgresMigrations(
  connection: PgConnection,
  options: PostgresDryRunOptions = {},
): Promise<MigrationDryRunReport> {
  const migrations = options.migrations ?? MIGRATIONS;
  return withPgClient(connection, async (client) => {
    const status = assertStatusMigratable(await readStatus(client, migrations), describeClient(client));
    const report: MigrationDryRunReport = {
      file: describeClient(client),
      databaseExists: true,
      fromVersion: status.currentVersion,
      toVersion: status.currentVersion,
      latestVersion: status.latestVersion,
      migrations: [],
      ok: true,
    };
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.trunc(options.lockTimeoutMs ?? 5000))}`);
      for (const migration of status.pending) {
        const planned: DryRunMigration = {
          version: migration.version,
          name: migration.name,
          checksum: getDialectChecksum(migration, 'postgres'),
          statements: [],
        };
        report.migrations.push(planned);
        const failure = await applyStatementByStatement(client, migration, planned.statements);
        if (failure) {
          report.ok = false;
          report.failure = { version: migration.version, name: migration.name, ...failure };
          break;
        }
        report.toVersion = migration.version;
      }
    } finally {
      await client.query('ROLLBACK');
    }
    return report;
  });
}

/** One migration under a savepoint, like the real run's transaction; returns the failure (rolled back to before it). */
async function applyStatementByStatement(
  client: pg.Client,
  migration: Migration,
  effects: StatementEffect[],
): Promise<{ statement: string; reason: string } | undefined> {
  let current = '';
  await client.query('SAVEPOINT dhash_dry_run');
  try {
    for (const text of splitSqlStatements(getMigrationText(migration, 'postgres').sql, { dialect: 'postgres' })) {
      current = abbreviateSql(text);
      effects.push(await runMeasured(client, text, current));
    }
    current = `(record migration ${migration.version} in ${MIGRATIONS_TABLE})`;
    await recordPostgresMigration(client, migration, createSystemClock());
    await client.query('RELEASE SAVEPOINT dhash_dry_run');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT dhash_dry_run');
    return { statement: current, reason: error instanceof Error ? error.message : String(error) };
  }
}

const ROW_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

async function runMeasured(client: pg.Client, text: string, shown: string): Promise<StatementEffect> {
  const before = await readPostgresSchemaObjects(client);
  const result = await client.query(text);
  // Rows the statement itself wrote (unlike SQLite's total_changes(), a trigger's rows are not counted).
  const changes = ROW_COMMANDS.has(result.command) ? (result.rowCount ?? 0) : 0;
  const after = await readPostgresSchemaObjects(client);
  return describeStatementEffect(shown, changes, before, after);
}
