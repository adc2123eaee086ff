// The consistent copy a deploy keeps before it migrates, so a switch-back finds the schema the previous release
// knows: a SQLite online-backup file, or a PostgreSQL pg_dump restored into a fresh database and renamed in.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { replaceDatabaseFile, snapshotDatabase } from '../release/database-file.js';
import { getPostgresTarget } from '../backup/postgres-connection.js';
import { readPostgresFacts, snapshotPostgresDatabase } from '../backup/snapshot-postgres.js';
import { createBackupManifest } from '../core/backup-manifest.js';
import { createSideDatabaseName, restoreIntoFreshDatabase, switchDatabases } from '../rollback/postgres-restore.js';

export interface PreMigrateSnapshot {
  engine: 'sqlite' | 'postgres';
  file: string;
  /** PostgreSQL: what the dump must restore to (schema version, seq, row counts), checked before the switch. */
  facts?: Awaited<ReturnType<typeof snapshotPostgresDatabase>>;
}

/** Takes the copy under `<root>/state/pre-migrate-<deployId>.*`; undefined when there is no database to copy. */
export async function takePreMigrateSnapshot(
  environment: ResolvedEnvironment,
  deployId: string,
  processEnv: Record<string, string | undefined>,
): Promise<PreMigrateSnapshot | undefined> {
  await mkdir(environment.stateDir, { recursive: true });
  if (environment.database.engine === 'sqlite') {
    const file = join(environment.stateDir, `pre-migrate-${deployId}.sqlite`);
    return (await snapshotDatabase(environment.databaseFile, file)) ? { engine: 'sqlite', file } : undefined;
  }
  const target = getPostgresTarget(environment);
  const facts = await readPostgresFacts(target);
  if (Object.keys(facts.rowCounts).length === 0) return undefined;
  const file = join(environment.stateDir, `pre-migrate-${deployId}.pgdump`);
  return { engine: 'postgres', file, facts: await snapshotPostgresDatabase(target, file, { processEnv }) };
}

/**
 * Puts the copy back; the service must be stopped. PostgreSQL: restored into a fresh database, checked, then renamed
 * in, the migrated database kept aside (named in the returned note). Throws when it cannot (nothing renamed).
 */
export async function restorePreMigrateSnapshot(
  environment: ResolvedEnvironment,
  snapshot: PreMigrateSnapshot,
  options: { clock: Clock; processEnv: Record<string, string | undefined> },
): Promise<string> {
  if (snapshot.engine === 'sqlite') {
    await replaceDatabaseFile(snapshot.file, environment.databaseFile);
    return 'database restored to its pre-migration copy';
  }
  const live = getPostgresTarget(environment);
  const nowMs = options.clock.now();
  const freshName = createSideDatabaseName(live.database, 'restore', nowMs);
  const asideName = createSideDatabaseName(live.database, 'prerollback', nowMs);
  const facts = snapshot.facts!;
  const expected = createBackupManifest({
    env: environment.name,
    createdAtMs: nowMs,
    release: null,
    schemaVersion: facts.schemaVersion,
    changeLogSeq: facts.changeLogSeq,
    hasDatabase: true,
    engine: 'postgres',
    postgres: {
      database: facts.database,
      serverVersion: facts.serverVersion,
      format: 'custom',
      rowCounts: facts.rowCounts,
    },
    entries: [],
    symlinks: [],
  });
  await restoreIntoFreshDatabase(live, snapshot.file, freshName, expected, options.processEnv);
  await switchDatabases(live, freshName, asideName);
  return `database restored to its pre-migration dump; the migrated database is kept as ${asideName}`;
}

export async function removePreMigrateSnapshot(snapshot: PreMigrateSnapshot | undefined): Promise<void> {
  if (snapshot) await rm(snapshot.file, { force: true });
}
