// Carry-forward on every engine: re-applies the library and review changes logged since the backup through the data
// layer's own writes (its validation, its change_log rows): the service's store on PostgreSQL, the repositories on
// SQLite (carry-forward.ts).
import type { ChangeRecord } from '../../service/store/index.js';
import type { ServiceStore } from '../../service/store/service-store.js';
import type { ReviewVerdict } from '../../service/review/review-repository.js';
import {
  isRecreatedByResolve,
  reportNoneCarried,
  toCarriedLibraryEntry,
  toCarriedReviewItem,
  toNotCarried,
  type CarryForwardReport,
} from './carry-forward-changes.js';

/** The writes carry-forward replays: the service's store, or the SQLite repositories behind the same methods. */
export type CarryForwardStore = Pick<
  ServiceStore,
  'addLibraryEntry' | 'getLibraryEntry' | 'deleteLibraryEntry' | 'enqueueReviewItem' | 'resolveReviewItem'
>;

/** Ids that changed on the way: an entry re-added gets a new id, and later changes that named the old one follow it. */
interface IdMaps {
  library: Map<number, number>;
  review: Map<number, number>;
}

/**
 * Re-applies `input.changes` (seq order) to `store`, each on its own so one failure stops none. `setChangeTime` is
 * called before each change so the store stamps it with the change's own time, not the rollback's. With a lineage
 * problem nothing is applied and every change is reported as not carried.
 */
export async function applyCarryForwardToStore(
  store: CarryForwardStore,
  mark: number,
  input: { changes: ChangeRecord[]; lineageProblem?: string },
  setChangeTime: (atMs: number) => void,
): Promise<CarryForwardReport> {
  if (input.lineageProblem) return reportNoneCarried(mark, input.changes, input.lineageProblem);
  const report: CarryForwardReport = { fromSeq: mark, carried: [], notCarried: [] };
  const ids: IdMaps = { library: new Map(), review: new Map() };
  for (const change of input.changes) {
    if (isRecreatedByResolve(change)) continue;
    try {
      setChangeTime(Date.parse(change.at));
      const summary = await applyChange(store, change, ids);
      report.carried.push({ seq: change.seq, at: change.at, summary });
    } catch (error) {
      report.notCarried.push(toNotCarried(change, error));
    }
  }
  return report;
}

async function applyChange(store: CarryForwardStore, change: ChangeRecord, ids: IdMaps): Promise<string> {
  const p = change.payload;
  const libraryId = (id: number) => ids.library.get(id) ?? id;
  if (change.entity === 'library_entry' && change.kind === 'add') {
    const entry = await store.addLibraryEntry(toCarriedLibraryEntry(p));
    ids.library.set(change.entityId, entry.id);
    return `library_entry add ${change.entityId} → ${entry.id} (${entry.label})`;
  }
  if (change.entity === 'library_entry' && change.kind === 'delete') {
    const id = libraryId(change.entityId);
    const found = await store.getLibraryEntry(id);
    // Never delete a different entry that happens to have the id in the restored data.
    if (found && found.hash !== p.hash)
      throw new Error(`entry ${id} in the restored data has hash ${found.hash}, not the deleted ${String(p.hash)}`);
    await store.deleteLibraryEntry(id);
    const renamed = id === change.entityId ? '' : ` (now ${id})`;
    return `library_entry delete ${change.entityId}${renamed} (${String(p.label)})`;
  }
  if (change.entity === 'review_item' && change.kind === 'create') {
    const item = await store.enqueueReviewItem(toCarriedReviewItem(p, libraryId(Number(p.candidateId))));
    ids.review.set(change.entityId, item.id);
    return `review_item create ${change.entityId} → ${item.id}`;
  }
  if (change.entity === 'review_item' && change.kind === 'resolve') {
    const id = ids.review.get(change.entityId) ?? change.entityId;
    const result = await store.resolveReviewItem(id, p.verdict as ReviewVerdict);
    if (result.libraryEntry && typeof p.libraryEntryId === 'number')
      ids.library.set(p.libraryEntryId, result.libraryEntry.id);
    const renamed = id === change.entityId ? '' : ` (now ${id})`;
    return `review_item resolve ${change.entityId}${renamed} as ${String(p.verdict)}`;
  }
  throw new Error(`unknown change ${change.entity} ${change.kind}`);
}
