// The database part of a backup, per engine: a SQLite online-backup snapshot or a PostgreSQL pg_dump, as one zip
// source.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DATABASE_PATH, POSTGRES_DUMP_PATH, type PostgresBackupFacts } from '../core/backup-manifest.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Logger } from '../../lib/logger.js';
import { createError } from '../../lib/errors.js';
import { getPostgresTarget } from './postgres-connection.js';
import { readPostgresFacts, snapshotPostgresDatabase } from './snapshot-postgres.js';
import { snapshotDatabase } from './snapshot-database.js';
import type { BackupSource } from './write-backup-zip.js';

export interface DatabasePlan {
  engine: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  sizeBytes: number;
  /** False for a missing SQLite file, or a PostgreSQL database without any of the service's tables. */
  isPresent: boolean;
}

export interface DatabaseSnapshotSource {
  source: BackupSource;
  schemaVersion: number;
  changeLogSeq: number;
  postgres?: PostgresBackupFacts;
}

/**
 * What would be backed up, without writing anything. PostgreSQL: EDATABASEURLMISSING when its variable is not set,
 * EPGDUMPFAILED when the server cannot be read.
 */
export async function planDatabaseSource(environment: ResolvedEnvironment): Promise<DatabasePlan> {
  if (environment.database.engine === 'sqlite') {
    const isPresent = existsSync(environment.databaseFile);
    const sizeBytes = isPresent ? (await stat(environment.databaseFile)).size : 0;
    return { engine: 'sqlite', location: environment.databaseFile, sizeBytes, isPresent };
  }
  const target = getPostgresTarget(environment);
  try {
    const facts = await readPostgresFacts(target);
    const isPresent = Object.keys(facts.rowCounts).length > 0;
    return { engine: 'postgres', location: target.safeUrl, sizeBytes: facts.sizeBytes, isPresent };
  } catch (error) {
    throw createError('EPGDUMPFAILED', { database: target.safeUrl, reason: (error as Error).message }, error);
  }
}

/** The consistent snapshot written to `tempFile`, as the zip source it becomes and the facts the manifest records. */
export async function snapshotDatabaseSource(
  environment: ResolvedEnvironment,
  tempFile: string,
  options: {
    log: Logger;
    processEnv: Record<string, string | undefined>;
    onProgress?: (doneBytes: number, totalBytes: number) => void;
  },
): Promise<DatabaseSnapshotSource> {
  if (environment.database.engine === 'sqlite') {
    const snapshot = await snapshotDatabase(environment.databaseFile, tempFile, { onProgress: options.onProgress });
    options.log.info('backup:snapshot done', {
      sizeBytes: snapshot.sizeBytes,
      schemaVersion: snapshot.schemaVersion,
      restarts: snapshot.restarts,
    });
    const sizeBytes = (await stat(tempFile)).size;
    return {
      source: { zipPath: DATABASE_PATH, file: tempFile, sizeBytes, isCompressed: true },
      schemaVersion: snapshot.schemaVersion,
      changeLogSeq: snapshot.changeLogSeq,
    };
  }
  const target = getPostgresTarget(environment);
  const dump = await snapshotPostgresDatabase(target, tempFile, { processEnv: options.processEnv });
  options.onProgress?.(dump.sizeBytes, dump.sizeBytes);
  options.log.info('backup:snapshot done', {
    engine: 'postgres',
    database: target.safeUrl,
    sizeBytes: dump.sizeBytes,
    schemaVersion: dump.schemaVersion,
    changeLogSeq: dump.changeLogSeq,
    tocEntries: dump.tocEntries,
  });
  return {
    // pg_dump's custom format is compressed already: deflating it again costs time and saves nothing.
    source: { zipPath: POSTGRES_DUMP_PATH, file: tempFile, sizeBytes: dump.sizeBytes, isCompressed: false },
    schemaVersion: dump.schemaVersion,
    changeLogSeq: dump.changeLogSeq,
    postgres: {
      database: dump.database,
      serverVersion: dump.serverVersion,
      format: 'custom',
      rowCounts: dump.rowCounts,
    },
  };
}
