// The review_items row as both engines read it, and its mapping to a ReviewItem. PostgreSQL returns BIGINT ids as
// strings, SQLite as numbers: Number() makes them the same either way.
import type { NormalizedReviewItem, ReviewItem, ReviewStatus } from './review-repository.js';

export interface ReviewItemRow {
  id: string | number;
  query_hash: string;
  query_label: string | null;
  query_source: string | null;
  candidate_id: string | number | null;
  candidate_label: string | null;
  candidate_hash: string | null;
  distance: number;
  status: ReviewStatus;
  created_at: string;
  resolved_at: string | null;
  resolved_entry_id: string | number | null;
}

export const REVIEW_ITEM_COLUMNS =
  'id, query_hash, query_label, query_source, candidate_id, candidate_label, ' +
  'candidate_hash, distance, status, created_at, resolved_at, resolved_entry_id';

const toNumberOrNull = (value: string | number | null): number | null => (value === null ? null : Number(value));

export const toReviewItem = (r: ReviewItemRow): ReviewItem => ({
  id: Number(r.id),
  queryHash: r.query_hash,
  queryLabel: r.query_label,
  querySource: r.query_source,
  candidateId: toNumberOrNull(r.candidate_id),
  candidateLabel: r.candidate_label,
  candidateHash: r.candidate_hash,
  distance: r.distance,
  status: r.status,
  createdAt: r.created_at,
  resolvedAt: r.resolved_at,
  resolvedEntryId: toNumberOrNull(r.resolved_entry_id),
});

/** The values of a new row, in the order both engines' INSERT names the columns (id and status are defaulted). */
export function getReviewItemInsertValues(item: NormalizedReviewItem, createdAt: string): (string | number | null)[] {
  return [
    item.queryHash,
    item.queryLabel,
    item.querySource,
    item.candidateId,
    item.candidateLabel,
    item.candidateHash,
    item.distance,
    createdAt,
  ];
}
