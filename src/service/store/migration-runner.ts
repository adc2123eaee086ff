// Applies the versioned migrations: one transaction each, checksums recorded, edited applied migrations refused.
import type Database from 'better-sqlite3';
import { createError } from '../../lib/errors.js';
import { createSystemClock, type Clock } from '../../lib/clock.js';
import { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations/migration-list.js';
import { getMigrationChecksum } from './migration-checksum.js';

export { LATEST_SCHEMA_VERSION };

type Db = Database.Database;

export const MIGRATIONS_TABLE = 'schema_migrations';

// Created inside each migration's transaction, so a failing first migration leaves even a fresh file untouched.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

export type MigrationState = 'applied' | 'pending' | 'edited' | 'unknown';

export interface MigrationStatusEntry {
  version: number;
  name: string;
  state: MigrationState;
  /** sha256 of the SQL in this release (for `unknown`, the recorded one). */
  checksum: string;
  /** sha256 recorded in the database when it was applied. */
  recordedChecksum?: string;
  appliedAt?: string;
}

export interface MigrationStatus {
  currentVersion: number;
  latestVersion: number;
  entries: MigrationStatusEntry[];
  pending: Migration[];
  /** Applied migrations whose SQL changed since: the runner refuses to do anything while there are any. */
  edited: MigrationStatusEntry[];
  /** Applied versions this release does not know (the database was migrated by a newer release). */
  unknown: MigrationStatusEntry[];
}

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

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

export function hasMigrationsTable(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MIGRATIONS_TABLE) !== undefined
  );
}

function readAppliedRows(db: Db): AppliedRow[] {
  if (!hasMigrationsTable(db)) return [];
  return db
    .prepare(`SELECT version, name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`)
    .all() as AppliedRow[];
}

/** The highest applied version; 0 for a database no migration has touched. */
export function getSchemaVersion(db: Db): number {
  if (!hasMigrationsTable(db)) return 0;
  const row = db.prepare(`SELECT MAX(version) AS version FROM ${MIGRATIONS_TABLE}`).get() as { version: number | null };
  return row.version ?? 0;
}

export function validateMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1)
      throw new Error(`Migration ${m.name} has version ${m.version}; versions are integers from 1.`);
    if (i > 0 && m.version <= migrations[i - 1].version)
      throw new Error(`Migration versions must ascend: ${migrations[i - 1].version} then ${m.version}.`);
  });
}

export function getMigrationStatus(db: Db, options: Pick<MigrationRunOptions, 'migrations'> = {}): MigrationStatus {
  const migrations = options.migrations ?? MIGRATIONS;
  validateMigrationList(migrations);
  const applied = new Map(readAppliedRows(db).map((row) => [row.version, row]));
  const entries: MigrationStatusEntry[] = migrations.map((m) => {
    const checksum = getMigrationChecksum(m);
    const row = applied.get(m.version);
    if (!row) return { version: m.version, name: m.name, state: 'pending', checksum };
    const state = row.checksum === checksum ? 'applied' : 'edited';
    return {
      version: m.version,
      name: m.name,
      state,
      checksum,
      recordedChecksum: row.checksum,
      appliedAt: row.applied_at,
    };
  });
  const known = new Set(migrations.map((m) => m.version));
  for (const row of applied.values()) {
    if (known.has(row.version)) continue;
    entries.push({
      version: row.version,
      name: row.name,
      state: 'unknown',
      checksum: row.checksum,
      recordedChecksum: row.checksum,
      appliedAt: row.applied_at,
    });
  }
  entries.sort((a, b) => a.version - b.version);
  return {
    currentVersion: getSchemaVersion(db),
    latestVersion: migrations.length ? migrations[migrations.length - 1].version : 0,
    entries,
    pending: migrations.filter((m) => !applied.has(m.version)),
    edited: entries.filter((e) => e.state === 'edited'),
    unknown: entries.filter((e) => e.state === 'unknown'),
  };
}

/** Throws the refusal (EMIGRATIONEDITED, ESCHEMAAHEAD) that forbids running anything; returns the status otherwise. */
export function assertMigratable(db: Db, options: Pick<MigrationRunOptions, 'migrations'> = {}): MigrationStatus {
  const status = getMigrationStatus(db, options);
  const edited = status.edited[0];
  if (edited) {
    throw createError('EMIGRATIONEDITED', {
      version: edited.version,
      name: edited.name,
      recorded: edited.recordedChecksum!,
      actual: edited.checksum,
    });
  }
  if (status.unknown.length) {
    throw createError('ESCHEMAAHEAD', { file: db.name, version: status.currentVersion, latest: status.latestVersion });
  }
  return status;
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
  const status = assertMigratable(db, options);
  if (status.pending.length) {
    throw createError('ESCHEMABEHIND', {
      file: db.name,
      version: status.currentVersion,
      latest: status.latestVersion,
      pending: status.pending.length,
    });
  }
}
