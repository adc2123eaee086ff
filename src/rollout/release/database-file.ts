// Snapshots and atomic replacement of the environment's SQLite file (with its stale -wal/-shm removed).
import { copyFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { getTempSibling } from '../../lib/atomic-file.js';
import { openDatabase, closeDatabase } from '../../service/store/index.js';

/**
 * A consistent copy through SQLite's online backup API (never a raw copy of a live file); false when there is no
 * database.
 */
export async function snapshotDatabase(databaseFile: string, destFile: string): Promise<boolean> {
  if (!existsSync(databaseFile)) return false;
  const db = openDatabase(databaseFile, { fileMustExist: true });
  try {
    await db.backup(destFile);
  } finally {
    closeDatabase(db);
  }
  return true;
}

/**
 * Replaces `databaseFile` with a copy of `sourceFile` by rename; the old -wal/-shm would be replayed onto the new
 * file and corrupt it, so they go first. The service must be stopped.
 */
export async function replaceDatabaseFile(sourceFile: string, databaseFile: string): Promise<void> {
  const temp = getTempSibling(databaseFile);
  await copyFile(sourceFile, temp);
  try {
    await rm(`${databaseFile}-wal`, { force: true });
    await rm(`${databaseFile}-shm`, { force: true });
    await rename(temp, databaseFile);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
