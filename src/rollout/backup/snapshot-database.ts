// A consistent copy of a live SQLite database through the online backup API (never a raw copy of the file).
import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { getChangeLogSeq, getSchemaVersion } from '../../service/store/index.js';

export interface DatabaseSnapshot {
  sizeBytes: number;
  schemaVersion: number;
  /** The change log's high-water seq in the snapshot (0 when it has no log): consistent with the copied data. */
  changeLogSeq: number;
  /** How often a concurrent writer made the copy start over before it switched to one-step copying. */
  restarts: number;
}

/** Pages per step while nobody writes: small enough to report progress and keep the event loop turning. */
const PAGES_PER_STEP = 4096;

/**
 * Copies `sourceFile` into the new file `destFile` while other connections keep reading and writing.
 * SQLite restarts a stepped backup whenever another connection writes between steps, so a busy service could keep
 * it from ever finishing; after the first restart we copy everything in one step, which holds one read transaction
 * (WAL: writers are not blocked) and therefore always completes with a consistent snapshot.
 * The snapshot is switched to journal_mode=DELETE so it is one self-contained file, then checked with quick_check.
 */
export async function snapshotDatabase(
  sourceFile: string,
  destFile: string,
  options: { onProgress?: (doneBytes: number, totalBytes: number) => void } = {},
): Promise<DatabaseSnapshot> {
  const source = new Database(sourceFile, { fileMustExist: true });
  let restarts = 0;
  try {
    try {
      await copyOnline(source, destFile, options, () => restarts++);
    } finally {
      source.close();
    }
    return await checkSnapshot(sourceFile, destFile, restarts);
  } catch (error) {
    // A failed copy (SQLITE_FULL on a full disk) leaves the partial file and its rollback journal: never a leftover.
    for (const temp of [destFile, `${destFile}-journal`]) await rm(temp, { force: true });
    throw error;
  }
}

/** The online backup API into `destFile`, stepping while nobody writes and in one step after the first restart. */
async function copyOnline(
  source: Database.Database,
  destFile: string,
  options: { onProgress?: (doneBytes: number, totalBytes: number) => void },
  onRestart: () => void,
): Promise<void> {
  source.pragma('busy_timeout = 10000');
  const pageSize = source.pragma('page_size', { simple: true }) as number;
  let lastRemaining = Infinity;
  let isOneStep = false;
  await source.backup(destFile, {
    progress: ({ totalPages, remainingPages }) => {
      options.onProgress?.((totalPages - remainingPages) * pageSize, totalPages * pageSize);
      if (remainingPages > lastRemaining && !isOneStep) {
        onRestart();
        isOneStep = true;
      }
      lastRemaining = remainingPages;
      return isOneStep ? 0x7fffffff : PAGES_PER_STEP;
    },
  });
}

/** Makes the copy self-contained (journal_mode=DELETE) and checks it; its size and schema version. */
async function checkSnapshot(sourceFile: string, destFile: string, restarts: number): Promise<DatabaseSnapshot> {
  const snapshot = new Database(destFile, { fileMustExist: true });
  try {
    snapshot.pragma('journal_mode = DELETE');
    const check = snapshot.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check of the snapshot of ${sourceFile} reported: ${String(check)}`);
    const schemaVersion = getSchemaVersion(snapshot);
    const pageCount = snapshot.pragma('page_count', { simple: true }) as number;
    const pageSize = snapshot.pragma('page_size', { simple: true }) as number;
    return { sizeBytes: pageCount * pageSize, schemaVersion, changeLogSeq: getChangeLogSeq(snapshot), restarts };
  } finally {
    snapshot.close();
  }
}
