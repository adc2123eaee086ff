// The low-confidence review queue on PostgreSQL: the SQLite repository's queries, on one client inside the store's
// transactions. Input checks, refusals and change-log rows come from review-repository.ts, so both engines agree.
import type pg from 'pg';
import type { Clock } from '../../../lib/clock.js';
import { normalizeNewLibraryEntry, normalizePaging, type Page, type Paging } from '../../library/library-repository.js';
import {
  getCreateChange,
  getResolutionEntry,
  getResolveChange,
  validateStatusFilter,
  type NormalizedReviewItem,
  type ResolveResult,
  type ReviewItem,
  type ReviewStatus,
  type ReviewVerdict,
} from '../../review/review-repository.js';
import {
  getReviewItemInsertValues,
  REVIEW_ITEM_COLUMNS,
  toReviewItem,
  type ReviewItemRow,
} from '../../review/review-item-row.js';
import { appendPgChange } from './pg-change-log.js';
import { insertPgLibraryEntry } from './pg-library-repository.js';

/** Inserts a checked item (normalizeNewReviewItem) and its change row; call inside a write transaction. */
export async function insertPgReviewItem(
  client: pg.Client,
  item: NormalizedReviewItem,
  clock: Clock,
): Promise<ReviewItem> {
  const createdAt = new Date(clock.now()).toISOString();
  const result = await client.query<ReviewItemRow>(
    'INSERT INTO review_items (query_hash, query_label, query_source, candidate_id, candidate_label, ' +
      `candidate_hash, distance, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${REVIEW_ITEM_COLUMNS}`,
    getReviewItemInsertValues(item, createdAt),
  );
  const created = toReviewItem(result.rows[0]);
  await appendPgChange(client, getCreateChange(created.id, item, createdAt));
  return created;
}

export async function selectPgReviewItem(
  client: pg.Client,
  id: number,
  options: { isForUpdate?: boolean } = {},
): Promise<ReviewItem | undefined> {
  const lock = options.isForUpdate ? ' FOR UPDATE' : '';
  const result = await client.query<ReviewItemRow>(
    `SELECT ${REVIEW_ITEM_COLUMNS} FROM review_items WHERE id = $1${lock}`,
    [id],
  );
  return result.rows[0] && toReviewItem(result.rows[0]);
}

/** Oldest first; `status` filters (all statuses when omitted). */
export async function listPgReviewItems(
  client: pg.Client,
  options: Paging & { status?: ReviewStatus } = {},
): Promise<Page<ReviewItem>> {
  const { limit, offset } = normalizePaging(options);
  const status = validateStatusFilter(options.status);
  const where = status ? 'WHERE status = $1' : '';
  const params: unknown[] = status ? [status] : [];
  const at = params.length;
  const rows = await client.query<ReviewItemRow>(
    `SELECT ${REVIEW_ITEM_COLUMNS} FROM review_items ${where} ORDER BY id LIMIT $${at + 1} OFFSET $${at + 2}`,
    [...params, limit, offset],
  );
  const total = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM review_items ${where}`, params);
  return { items: rows.rows.map(toReviewItem), total: Number(total.rows[0].n), limit, offset };
}

export async function countPgPendingReviews(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM review_items WHERE status = 'pending'");
  return Number(result.rows[0].n);
}

/**
 * Resolves a pending item once, inside a write transaction (a `same` adds its library entry in it too). Throws
 * EREVIEWITEMNOTFOUND or EREVIEWALREADYRESOLVED like SQLite; the caller has checked the verdict.
 */
export async function resolvePgReviewItem(
  client: pg.Client,
  id: number,
  verdict: ReviewVerdict,
  clock: Clock,
): Promise<ResolveResult> {
  const resolution = getResolutionEntry(id, await selectPgReviewItem(client, id, { isForUpdate: true }));
  const libraryEntry =
    verdict === 'same'
      ? await insertPgLibraryEntry(client, normalizeNewLibraryEntry(resolution), clock, id)
      : undefined;
  const resolvedAt = new Date(clock.now()).toISOString();
  const result = await client.query<ReviewItemRow>(
    'UPDATE review_items SET status = $1, resolved_at = $2, resolved_entry_id = $3 ' +
      `WHERE id = $4 AND status = 'pending' RETURNING ${REVIEW_ITEM_COLUMNS}`,
    [verdict, resolvedAt, libraryEntry?.id ?? null, id],
  );
  await appendPgChange(client, getResolveChange(id, verdict, resolvedAt, libraryEntry));
  return { item: toReviewItem(result.rows[0]), libraryEntry };
}
