// What carry-forward does the same on every engine: the lineage check, reading a logged change back into the input
// the data layer takes, and the report rows.
import type { ChangeRecord } from '../../service/store/index.js';
import type { NewLibraryEntry } from '../../service/library/library-repository.js';
import type { NewReviewItem } from '../../service/review/review-repository.js';

export interface CarriedChange {
  seq: number;
  at: string;
  /** `library_entry add 42 → 17`: what was re-applied, with the id it has now. */
  summary: string;
}

export interface CarryForwardReport {
  /** The backup's change-log high-water mark: changes after it were carried. */
  fromSeq: number;
  carried: CarriedChange[];
  notCarried: { seq: number; at: string; summary: string; reason: string }[];
}

/**
 * Why nothing may be carried, or undefined: the change at `mark` must be the same in the live log and the backup's,
 * otherwise the seqs mean different things.
 */
export function getLineageProblem(
  mark: number,
  live: ChangeRecord | undefined,
  backup: ChangeRecord | undefined,
): string | undefined {
  const isSame =
    live &&
    backup &&
    live.at === backup.at &&
    live.kind === backup.kind &&
    live.entity === backup.entity &&
    live.entityId === backup.entityId;
  return isSame ? undefined : `the live change log does not descend from the backup's (change ${mark} differs)`;
}

/** The report when the lineage check failed: every change not carried, for that reason. */
export function reportNoneCarried(mark: number, changes: ChangeRecord[], reason: string): CarryForwardReport {
  const report: CarryForwardReport = { fromSeq: mark, carried: [], notCarried: [] };
  for (const c of changes) report.notCarried.push({ seq: c.seq, at: c.at, summary: describeChange(c), reason });
  return report;
}

/** The report row of a change that failed to apply. */
export function toNotCarried(change: ChangeRecord, error: unknown): CarryForwardReport['notCarried'][number] {
  return { seq: change.seq, at: change.at, summary: describeChange(change), reason: (error as Error).message };
}

/** An entry a review resolve added: that resolve recreates it, so it is not carried on its own. */
export function isRecreatedByResolve(change: ChangeRecord): boolean {
  return change.entity === 'library_entry' && change.kind === 'add' && change.payload.viaReview !== undefined;
}

/** A `library_entry add` change's payload as the entry to add again. */
export function toCarriedLibraryEntry(p: ChangeRecord['payload']): NewLibraryEntry {
  return { label: String(p.label), hash: String(p.hash), source: String(p.source) };
}

/** A `review_item create` change's payload as the item to enqueue again, naming the candidate by its id now. */
export function toCarriedReviewItem(p: ChangeRecord['payload'], candidateId: number): NewReviewItem {
  return {
    queryHash: String(p.queryHash),
    ...(p.queryLabel == null ? {} : { queryLabel: String(p.queryLabel) }),
    ...(p.querySource == null ? {} : { querySource: String(p.querySource) }),
    candidateId,
    ...(p.candidateLabel == null ? {} : { candidateLabel: String(p.candidateLabel) }),
    ...(p.candidateHash == null ? {} : { candidateHash: String(p.candidateHash) }),
    distance: Number(p.distance),
  };
}

/** `library_entry add 42 (label)`: how a change is named in reports. */
export function describeChange(c: ChangeRecord): string {
  return `${c.entity} ${c.kind} ${c.entityId}${typeof c.payload.label === 'string' ? ` (${c.payload.label})` : ''}`;
}
