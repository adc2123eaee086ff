// Applies the versioned migrations: one transaction each, checksums recorded, edited applied migrations refused.
import type Database from 'better-sqlite3';
import { createError } from '../../lib/errors.js';
import { createSystemClock, type Clock } from '../../lib/clock.js';
import { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations/migration-list.js';
import { getMigrationChecksum } from './migration-checksum.js';
import {
  CREATE_MIGRATIONS_TABLE,
  MIGRATIONS_TABLE,
  assertStatusCurrent,
  assertStatusMigratable,
  computeMigrationStatus,
  validateMigrationList,
  type AppliedMigrationRow,
  type MigrationState,
  type MigrationStatus,
  type MigrationStatusEntry,
} from './migration-status.js';

type Db = Database.Database;

export { LATEST_SCHEMA_VERSION, MIGRATIONS_TABLE, validateMigrationList };
export type { MigrationState, MigrationStatusEntry, MigrationStatus };

export interface MigrationRunOptions {
  /** Defaults to the service's MIGRATIONS; tests inject failing or edited ones. */
  migrations?: readonly Migration[];
  clock?: Clock;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  durationMs: number;
}

export interface MigrationRunReport {
  fromVersion: number;
  toVersion: number;
  applied: AppliedMigration[];
}

export function hasMigrationsTable(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MIGRATIONS_TABLE) !== undefined
  );
}

function readAppliedRows(db: Db): AppliedMigrationRow[] {
  if (!hasMigrationsTable(db)) return [];
  return db
    .prepare(`SELECT version, name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`)
    .all() as AppliedMigrationRow[];
}

/** The highest applied version; 0 for a database no migration has touched. */
export function getSchemaVersion(db: Db): number {
  if (!hasMigrationsTable(db)) return 0;
  const row = db.prepare(`SELECT MAX(version) AS version FROM ${MIGRATIONS_TABLE}`).get() as { version: number | null };
  return row.version ?? 0;
}

export function getMigrationStatus(db: Db, options: Pick<MigrationRunOptions, 'migrations'> = {}): MigrationStatus {
  return computeMigrationStatus(readAppliedRows(db), options.migrations ?? MIGRATIONS, 'sqlite');
}

/** Throws the refusal (EMIGRATIONEDITED, ESCHEMAAHEAD) that forbids running anything; returns the status otherwise. */
export function assertMigratable(db: Db, options: Pick<MigrationRunOptions, 'migrations'> = {}): MigrationStatus {
  return assertStatusMigratable(getMigrationStatus(db, options), db.name);
}

/** Writes the bookkeeping row (creating the table on first use); call inside the migration's transaction. */
export function recordAppliedMigration(db: Db, migration: Migration, clock: Clock): void {
  db.exec(CREATE_MIGRATIONS_TABLE);
  db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`).run(
    migration.version,
    migration.name,
    getMigrationChecksum(migration),
    new Date(clock.now()).toISOString(),
  );
}

/** Runs one migration and its bookkeeping row in a single transaction; SQLite rolls all of it back on error. */
export function applyOneMigration(db: Db, migration: Migration, clock: Clock): AppliedMigration {
  const checksum = getMigrationChecksum(migration);
  const startedMs = clock.now();
  const run = db.transaction(() => {
    db.exec(migration.sql);
    recordAppliedMigration(db, migration, clock);
  });
  try {
    run.immediate();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw createError('EMIGRATIONFAILED', { version: migration.version, name: migration.name, reason }, error);
  }
  return { version: migration.version, name: migration.name, checksum, durationMs: clock.now() - startedMs };
}

/** Applies every pending migration in order; stops at the first failure (earlier ones stay committed). */
export function applyPendingMigrations(db: Db, options: MigrationRunOptions = {}): MigrationRunReport {
  const clock = options.clock ?? createSystemClock();
  const status = assertMigratable(db, options);
  const applied = status.pending.map((m) => applyOneMigration(db, m, clock));
  return { fromVersion: status.currentVersion, toVersion: getSchemaVersion(db), applied };
}

/** `serve` calls this: a database behind (or ahead of) this release is refused with what to run. */
export function assertSchemaCurrent(db: Db, options: Pick<MigrationRunOptions, 'migrations'> = {}): void {
  assertStatusCurrent(getMigrationStatus(db, options), db.name, 'sqlite');
}
