// An environment's schema migrations whatever its engine: status, dry run and apply on its SQLite file or, through the
// service's async runner, on its PostgreSQL database.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import {
  applyMigrations,
  closeDatabase,
  dryRunMigrationsOnFile,
  getMigrationStatus,
  openDatabase,
  openDatabaseForReading,
  type MigrationDryRunReport,
  type MigrationRunReport,
  type MigrationStatus,
} from '../../service/store/index.js';
import {
  applyPendingPostgresMigrations,
  dryRunPostgresMigrations,
  getPostgresMigrationStatus,
} from '../../service/store/postgres/index.js';
import { getPostgresTarget, withPostgresClient, type PostgresTarget } from '../backup/postgres-connection.js';

/** Where an environment's migrations run: its SQLite file, or its PostgreSQL database (URL from its variable). */
export type MigrationLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; target: PostgresTarget };

/** Throws EDATABASEURLMISSING (exit 2) for a PostgreSQL environment whose variable is not set. */
export function getMigrationLocation(environment: ResolvedEnvironment): MigrationLocation {
  return environment.database.engine === 'postgres'
    ? { engine: 'postgres', target: getPostgresTarget(environment) }
    : { engine: 'sqlite', file: environment.databaseFile };
}

/** The database as shown in output: the file, or the URL without its password. */
export function describeMigrationLocation(location: MigrationLocation): string {
  return location.engine === 'sqlite' ? location.file : location.target.safeUrl;
}

/** Status of every migration; the SQLite file must exist (callers check), PostgreSQL is read in one connection. */
export async function readMigrationStatus(location: MigrationLocation): Promise<MigrationStatus> {
  if (location.engine === 'postgres')
    return withPostgresClient(location.target, (client) => getPostgresMigrationStatus(client));
  const db = openDatabaseForReading(location.file);
  try {
    return getMigrationStatus(db);
  } finally {
    closeDatabase(db);
  }
}

/**
 * The pending migrations applied to a copy (SQLite) or inside a transaction that is rolled back (PostgreSQL: its
 * DDL is transactional): every statement's effect, the live database left exactly as it was.
 */
export async function dryRunLocationMigrations(location: MigrationLocation): Promise<MigrationDryRunReport> {
  if (location.engine === 'sqlite') return dryRunMigrationsOnFile(location.file);
  const report = await withPostgresClient(location.target, (client) => dryRunPostgresMigrations(client));
  return { ...report, file: location.target.safeUrl };
}

/** Applies the pending migrations, one transaction each; stops at the first failure (EMIGRATIONFAILED). */
export async function applyLocationMigrations(location: MigrationLocation, clock?: Clock): Promise<MigrationRunReport> {
  if (location.engine === 'postgres')
    return withPostgresClient(location.target, (client) => applyPendingPostgresMigrations(client, { clock }));
  const db = openDatabase(location.file);
  try {
    return await applyMigrations(db, { clock });
  } finally {
    closeDatabase(db);
  }
}
