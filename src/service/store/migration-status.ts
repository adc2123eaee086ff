// The migration status of a database from its bookkeeping rows: pure, shared by the SQLite and PostgreSQL runners.
import { createError } from '../../lib/errors.js';
import type { Migration, MigrationDialect } from './migrations/migration.js';
import { getDialectChecksum, getMigrationText } from './migration-dialect.js';

export const MIGRATIONS_TABLE = 'schema_migrations';

// The same on both engines. Created inside each migration's transaction (DDL is transactional in both), so a failing
// first migration leaves even a fresh database untouched.
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
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
  /** The migration's flag (migration.ts), for the fleet rollout's refusal; absent for `unknown` versions. */
  isBackwardCompatible?: boolean;
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

/** One row of schema_migrations, as both engines store it. */
export interface AppliedMigrationRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

export function validateMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1)
      throw new Error(`Migration ${m.name} has version ${m.version}; versions are integers from 1.`);
    if (i > 0 && m.version <= migrations[i - 1].version)
      throw new Error(`Migration versions must ascend: ${migrations[i - 1].version} then ${m.version}.`);
  });
}

/** Compares the recorded rows with this release's migrations, by the checksum of the engine's own text. */
export function computeMigrationStatus(
  rows: readonly AppliedMigrationRow[],
  migrations: readonly Migration[],
  dialect: MigrationDialect,
): MigrationStatus {
  validateMigrationList(migrations);
  const applied = new Map(rows.map((row) => [row.version, row]));
  const entries: MigrationStatusEntry[] = migrations.map((m) => {
    const checksum = getDialectChecksum(m, dialect);
    const isBackwardCompatible = m.isBackwardCompatible === true;
    const row = applied.get(m.version);
    if (!row) return { version: m.version, name: m.name, state: 'pending', checksum, isBackwardCompatible };
    const state = row.checksum === checksum ? 'applied' : 'edited';
    return {
      version: m.version,
      name: m.name,
      state,
      checksum,
      recordedChecksum: row.checksum,
      appliedAt: row.applied_at,
      isBackwardCompatible,
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
    currentVersion: rows.reduce((max, row) => Math.max(max, row.version), 0),
    latestVersion: migrations.length ? migrations[migrations.length - 1].version : 0,
    entries,
    pending: migrations.filter((m) => !applied.has(m.version)),
    edited: entries.filter((e) => e.state === 'edited'),
    unknown: entries.filter((e) => e.state === 'unknown'),
  };
}

/** The refusal (EMIGRATIONEDITED, ESCHEMAAHEAD) that forbids running anything; `database` names it in the message. */
export function assertStatusMigratable(status: MigrationStatus, database: string): MigrationStatus {
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
    throw createError('ESCHEMAAHEAD', { file: database, version: status.currentVersion, latest: status.latestVersion });
  }
  return status;
}

/** The serve guard: a database behind this release is refused (ESCHEMABEHIND) with what to run. */
export function assertStatusCurrent(status: MigrationStatus, database: string, dialect: MigrationDialect): void {
  assertStatusMigratable(status, database);
  if (status.pending.length) {
    throw createError('ESCHEMABEHIND', {
      file: database,
      version: status.currentVersion,
      latest: status.latestVersion,
      pending: status.pending.length,
      ...(dialect === 'postgres' ? { isPostgres: true } : {}),
    });
  }
}

/**
 * The migrations to revert, newest first. Refuses (before anything runs) a version that is not applied, one this
 * release does not know, and one without a down on this engine (EMIGRATIONNODOWN). Call on a migratable status.
 */
export function planRevert(
  status: MigrationStatus,
  versions: readonly number[],
  migrations: readonly Migration[],
  dialect: MigrationDialect,
): Migration[] {
  const applied = new Set(status.entries.filter((e) => e.state === 'applied').map((e) => e.version));
  return [...versions]
    .sort((a, b) => b - a)
    .map((version) => {
      const migration = migrations.find((m) => m.version === version);
      const down = migration && getMigrationText(migration, dialect).down;
      if (!migration || !applied.has(version) || down === undefined) {
        throw createError('EMIGRATIONNODOWN', {
          version,
          name: migration?.name ?? '(unknown)',
          reason: !migration
            ? 'this release does not know it'
            : !applied.has(version)
              ? 'it is not applied to this database'
              : 'it has no reviewed down',
        });
      }
      return migration;
    });
}
