// Carry-forward after a restore: re-applies the library and review changes logged since the backup, through the data
// layer.
import type { Clock } from '../../lib/clock.js';
import {
  closeDatabase,
  getChange,
  getChangeLogSeq,
  listChangesSince,
  openDatabase,
  openDatabaseForReading,
  type ChangeRecord,
  type Db,
} from '../../service/store/index.js';
import { addLibraryEntry, deleteLibraryEntry, getLibraryEntry } from '../../service/library/library-repository.js';
import { getLineageProblem, reportNoneCarried, type CarryForwardReport } from './carry-forward-changes.js';
import { applyCarryForwardToStore, type CarryForwardStore } from './carry-forward-to-store.js';
import { enqueueReviewItem, resolveReviewItem } from '../../service/review/review-repository.js';

export type { CarriedChange, CarryForwardReport } from './carry-forward-changes.js';
export { describeChange } from './carry-forward-changes.js';

/** The backup's mark: the manifest's when recorded, else read from the restored database itself (0 without a log). */
export function getBackupMark(manifestSeq: number | undefined, backupDatabaseFile: string | null): number {
  if (manifestSeq !== undefined) return manifestSeq;
  if (!backupDatabaseFile) return 0;
  const db = openDatabaseForReading(backupDatabaseFile);
  try {
    return getChangeLogSeq(db);
  } finally {
    db.close();
  }
}

/**
 * Reads the live database's changes after `mark` (the service must be stopped, so nothing is written meanwhile).
 * The live log must descend from the backup's: the change at `mark` must be the same in both, otherwise the seqs
 * mean different things and nothing is carried (every change is reported as not carried, and stays in the snapshot).
 */
export function readChangesToCarry(
  liveFile: string,
  backupDatabaseFile: string | null,
  mark: number,
): { changes: ChangeRecord[]; lineageProblem?: string } {
  const live = openDatabaseForReading(liveFile);
  try {
    const changes = listChangesSince(live, mark);
    if (mark === 0 || !backupDatabaseFile) return { changes };
    const backup = openDatabaseForReading(backupDatabaseFile);
    try {
      const lineageProblem = getLineageProblem(mark, getChange(live, mark), getChange(backup, mark));
      return lineageProblem ? { changes, lineageProblem } : { changes };
    } finally {
      backup.close();
    }
  } finally {
    live.close();
  }
}

/**
 * Re-applies `changes` to the restored database file in seq order; each change on its own, so one failure stops none.
 * Each change is written with its own time, not the rollback's, as on PostgreSQL.
 */
export async function applyCarryForward(
  databaseFile: string,
  mark: number,
  input: { changes: ChangeRecord[]; lineageProblem?: string },
  clock: Clock,
): Promise<CarryForwardReport> {
  // With a lineage problem the restored file is not even opened.
  if (input.lineageProblem) return reportNoneCarried(mark, input.changes, input.lineageProblem);
  const db = openDatabase(databaseFile, { fileMustExist: true });
  let changeTimeMs = clock.now();
  const changeClock: Clock = { now: () => changeTimeMs, sleep: clock.sleep };
  try {
    return await applyCarryForwardToStore(
      createRepositoryStore(db, changeClock),
      mark,
      input,
      (atMs) => (changeTimeMs = atMs),
    );
  } finally {
    closeDatabase(db);
  }
}

/** The SQLite repositories behind the store's methods, so both engines replay a change through one applyChange. */
function createRepositoryStore(db: Db, clock: Clock): CarryForwardStore {
  return {
    addLibraryEntry: async (entry) => addLibraryEntry(db, entry, clock),
    getLibraryEntry: async (id) => getLibraryEntry(db, id),
    deleteLibraryEntry: async (id) => deleteLibraryEntry(db, id, clock),
    enqueueReviewItem: async (item) => enqueueReviewItem(db, item, clock),
    resolveReviewItem: async (id, verdict) => resolveReviewItem(db, id, verdict, clock),
  };
}

/**
 * The incident's recovery hint for changes that could not be carried forward. PostgreSQL: the live database as it was
 * at the rollback is kept under `preRollbackDatabase`, which holds them all.
 */
export function describeRecovery(snapshotFile: string | undefined, mark: number, preRollbackDatabase?: string): string {
  if (preRollbackDatabase)
    return (
      `They are in the pre-rollback database ${preRollbackDatabase} (kept on the same server): ` +
      `read them with \`psql -d ${preRollbackDatabase} -c "SELECT * FROM change_log WHERE seq > ${mark}"\` ` +
      'and re-apply them through the API.'
    );
  return snapshotFile
    ? `They are in the pre-rollback snapshot ${snapshotFile}: ` +
        `\`unzip -p ${snapshotFile} database/dhash.sqlite > snapshot.sqlite\`, ` +
        `read them with \`sqlite3 snapshot.sqlite "SELECT * FROM change_log WHERE seq > ${mark}"\`, ` +
        'and re-apply them through the API.'
    : 'No pre-rollback snapshot was taken; they are lost.';
}
