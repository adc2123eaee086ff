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
import {
  getLineageProblem,
  isRecreatedByResolve,
  reportNoneCarried,
  toCarriedLibraryEntry,
  toCarriedReviewItem,
  toNotCarried,
  type CarryForwardReport,
} from './carry-forward-changes.js';
import { enqueueReviewItem, resolveReviewItem, type ReviewVerdict } from '../../service/review/review-repository.js';

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
 */
export function applyCarryForward(
  databaseFile: string,
  mark: number,
  input: { changes: ChangeRecord[]; lineageProblem?: string },
  clock: Clock,
): CarryForwardReport {
  if (input.lineageProblem) return reportNoneCarried(mark, input.changes, input.lineageProblem);
  const report: CarryForwardReport = { fromSeq: mark, carried: [], notCarried: [] };
  const db = openDatabase(databaseFile, { fileMustExist: true });
  const ids = { library: new Map<number, number>(), review: new Map<number, number>() };
  try {
    for (const change of input.changes) {
      if (isRecreatedByResolve(change)) continue;
      try {
        const summary = applyChange(db, change, ids, { now: () => Date.parse(change.at), sleep: clock.sleep });
        report.carried.push({ seq: change.seq, at: change.at, summary });
      } catch (error) {
        report.notCarried.push(toNotCarried(change, error));
      }
    }
  } finally {
    closeDatabase(db);
  }
  return report;
}

function applyChange(
  db: Db,
  change: ChangeRecord,
  ids: { library: Map<number, number>; review: Map<number, number> },
  clock: Clock,
): string {
  const p = change.payload;
  const libraryId = (id: number) => ids.library.get(id) ?? id;
  if (change.entity === 'library_entry' && change.kind === 'add') {
    const entry = addLibraryEntry(db, toCarriedLibraryEntry(p), clock);
    ids.library.set(change.entityId, entry.id);
    return `library_entry add ${change.entityId} → ${entry.id} (${entry.label})`;
  }
  if (change.entity === 'library_entry' && change.kind === 'delete') {
    const id = libraryId(change.entityId);
    const found = getLibraryEntry(db, id);
    // Never delete a different entry that happens to have the id in the restored data.
    if (found && found.hash !== p.hash)
      throw new Error(`entry ${id} in the restored data has hash ${found.hash}, not the deleted ${String(p.hash)}`);
    deleteLibraryEntry(db, id, clock);
    const renamed = id === change.entityId ? '' : ` (now ${id})`;
    return `library_entry delete ${change.entityId}${renamed} (${String(p.label)})`;
  }
  if (change.entity === 'review_item' && change.kind === 'create') {
    const item = enqueueReviewItem(db, toCarriedReviewItem(p, libraryId(Number(p.candidateId))), clock);
    ids.review.set(change.entityId, item.id);
    return `review_item create ${change.entityId} → ${item.id}`;
  }
  if (change.entity === 'review_item' && change.kind === 'resolve') {
    const id = ids.review.get(change.entityId) ?? change.entityId;
    const result = resolveReviewItem(db, id, p.verdict as ReviewVerdict, clock);
    if (result.libraryEntry && typeof p.libraryEntryId === 'number')
      ids.library.set(p.libraryEntryId, result.libraryEntry.id);
    const renamed = id === change.entityId ? '' : ` (now ${id})`;
    return `review_item resolve ${change.entityId}${renamed} as ${String(p.verdict)}`;
  }
  throw new Error(`unknown change ${change.entity} ${change.kind}`);
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
