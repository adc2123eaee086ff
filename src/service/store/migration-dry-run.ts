// Dry run: apply the pending migrations to an online-backup copy and report each statement's effect.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSystemClock } from '../../lib/clock.js';
import { MIGRATIONS, type Migration } from './migrations/migration-list.js';
import { getMigrationChecksum } from './migration-checksum.js';
import {
  assertMigratable,
  getSchemaVersion,
  MIGRATIONS_TABLE,
  recordAppliedMigration,
  type MigrationRunOptions,
} from './migration-runner.js';
import { openDatabaseForReading } from './database.js';
import { abbreviateSql, splitSqlStatements } from './split-sql.js';
import { describeStatementEffect } from './statement-effect.js';

type Db = Database.Database;

export interface StatementEffect {
  /** The statement, on one line, abbreviated. */
  sql: string;
  /** Rows inserted, updated or deleted (triggers included). */
  changes: number;
  /** Schema objects as "table name", "index name", ... */
  created: string[];
  dropped: string[];
  altered: string[];
}

export interface DryRunMigration {
  version: number;
  name: string;
  checksum: string;
  statements: StatementEffect[];
}

export interface MigrationDryRunReport {
  file: string;
  /** false when the live file does not exist yet: the plan starts from an empty database and nothing is created. */
  databaseExists: boolean;
  fromVersion: number;
  /** The schema version the live database would have after the run (the last good one when a migration fails). */
  toVersion: number;
  latestVersion: number;
  migrations: DryRunMigration[];
  ok: boolean;
  failure?: { version: number; name: string; statement: string; reason: string };
}

/** Dry-runs against an open handle: `db.backup()` copies it consistently even while others write. */
export async function dryRunMigrations(db: Db, options: MigrationRunOptions = {}): Promise<MigrationDryRunReport> {
  const status = assertMigratable(db, options);
  return withTempDir(async (dir) => {
    const copyFile = join(dir, 'dry-run.sqlite');
    await db.backup(copyFile);
    return runOnCopy(copyFile, db.name, true, status.currentVersion, options);
  });
}

/** Dry-runs a database file by path, read-only; a missing file is planned from empty and is not created. */
export async function dryRunMigrationsOnFile(
  file: string,
  options: MigrationRunOptions = {},
): Promise<MigrationDryRunReport> {
  if (!existsSync(file)) {
    return withTempDir((dir) => runOnCopy(join(dir, 'empty.sqlite'), file, false, 0, options));
  }
  const db = openDatabaseForReading(file);
  try {
    return await dryRunMigrations(db, options);
  } finally {
    db.close();
  }
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dhash-migrate-dry-run-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runOnCopy(
  copyFile: string,
  liveFile: string,
  databaseExists: boolean,
  fromVersion: number,
  options: MigrationRunOptions,
): Promise<MigrationDryRunReport> {
  const migrations = options.migrations ?? MIGRATIONS;
  const copy = new Database(copyFile);
  try {
    copy.pragma('foreign_keys = ON');
    const { pending, latestVersion } = assertMigratable(copy, { migrations });
    const report: MigrationDryRunReport = {
      file: liveFile,
      databaseExists,
      fromVersion,
      toVersion: fromVersion,
      latestVersion,
      migrations: [],
      ok: true,
    };
    for (const migration of pending) {
      const planned: DryRunMigration = {
        version: migration.version,
        name: migration.name,
        checksum: getMigrationChecksum(migration),
        statements: [],
      };
      report.migrations.push(planned);
      const failure = applyStatementByStatement(copy, migration, planned.statements);
      if (failure) {
        report.ok = false;
        report.failure = { version: migration.version, name: migration.name, ...failure };
        break;
      }
      report.toVersion = getSchemaVersion(copy);
    }
    return report;
  } finally {
    copy.close();
  }
}

/** Runs each statement inside one transaction with the bookkeeping row, like the real run; returns the failure. */
function applyStatementByStatement(
  copy: Db,
  migration: Migration,
  effects: StatementEffect[],
): { statement: string; reason: string } | undefined {
  let current = '';
  try {
    copy
      .transaction(() => {
        for (const text of splitSqlStatements(migration.sql)) {
          current = abbreviateSql(text);
          effects.push(runMeasured(copy, text, current));
        }
        current = `(record migration ${migration.version} in ${MIGRATIONS_TABLE})`;
        recordAppliedMigration(copy, migration, createSystemClock());
      })
      .immediate();
    return undefined;
  } catch (error) {
    return { statement: current, reason: error instanceof Error ? error.message : String(error) };
  }
}

function runMeasured(db: Db, text: string, shown: string): StatementEffect {
  const before = snapshotSchema(db);
  const totalBefore = getTotalChanges(db);
  const statement = db.prepare(text);
  if (statement.reader) statement.all();
  else statement.run();
  const changes = getTotalChanges(db) - totalBefore;
  const after = snapshotSchema(db);
  return describeStatementEffect(shown, changes, before, after);
}

function getTotalChanges(db: Db): number {
  return (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

function snapshotSchema(db: Db): Map<string, string> {
  const rows = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as {
    type: string;
    name: string;
    sql: string | null;
  }[];
  return new Map(rows.map((r) => [`${r.type} ${r.name}`, r.sql ?? '']));
}
