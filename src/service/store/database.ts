// Opens the service's SQLite database with the settings every caller needs (WAL, foreign keys, busy timeout).
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createError } from '../../lib/errors.js';
import { applyPendingMigrations } from './migration-runner.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Open read-only; the file must exist. */
  readonly?: boolean;
  /** Apply pending migrations right after opening (the `serve --migrate` developer shortcut). */
  migrate?: boolean;
  /** Refuse (EDATABASENOTFOUND) instead of creating a missing file. Implied by `readonly`. */
  fileMustExist?: boolean;
  /** How long a writer waits for another connection's lock before SQLITE_BUSY; default 5000. */
  busyTimeoutMs?: number;
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const isReadonly = options.readonly === true;
  if ((isReadonly || options.fileMustExist) && !existsSync(file)) throw createError('EDATABASENOTFOUND', { file });
  if (!isReadonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: isReadonly, fileMustExist: isReadonly || options.fileMustExist === true });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('foreign_keys = ON');
    // WAL lets the service read while a backup or a dry run copies the file; a read-only handle cannot switch modes.
    if (!isReadonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    if (options.migrate) applyPendingMigrations(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens an existing database for inspection (status, dry run, backup) so that the folder is left exactly
 * as found. A read-only handle on a WAL database creates -wal/-shm files and leaves them behind, so it is
 * used only when they already exist (a service has it open). Otherwise a read-write handle limited by
 * query_only is used: as the last connection it removes the files it created when it closes.
 */
export function openDatabaseForReading(file: string, options: Pick<OpenDatabaseOptions, 'busyTimeoutMs'> = {}): Db {
  if (!existsSync(file)) throw createError('EDATABASENOTFOUND', { file });
  const hasWalFiles = existsSync(`${file}-wal`) || existsSync(`${file}-shm`);
  const db = new Database(file, { readonly: hasWalFiles, fileMustExist: true });
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
  if (!hasWalFiles) db.pragma('query_only = ON');
  return db;
}

/** Closes the handle; idempotent. The last writer's close checkpoints the WAL into the main file. */
export function closeDatabase(db: Db): void {
  if (db.open) db.close();
}
