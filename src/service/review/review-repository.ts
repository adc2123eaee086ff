// The low-confidence review queue in SQLite: enqueue uncertain matches, list them, resolve them once;
// the checks and change-log rows every engine shares.
import type Database from 'better-sqlite3';
import { createError } from '../../lib/errors.js';
import { createSystemClock, type Clock } from '../../lib/clock.js';
import { normalizeHash } from '../library/hash-bits.js';
import { appendChange, type ChangeRecord } from '../store/change-log.js';
import {
  addLibraryEntry,
  normalizePaging,
  type LibraryEntry,
  type NewLibraryEntry,
  type Page,
  type Paging,
} from '../library/library-repository.js';
import { getReviewItemInsertValues, REVIEW_ITEM_COLUMNS, toReviewItem, type ReviewItemRow } from './review-item-row.js';

type Db = Database.Database;

export type ReviewStatus = 'pending' | 'same' | 'different';
export type ReviewVerdict = Exclude<ReviewStatus, 'pending'>;
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'same', 'different'];

export interface NewReviewItem {
  queryHash: string;
  queryLabel?: string;
  querySource?: string;
  candidateId: number;
  candidateLabel?: string;
  candidateHash?: string;
  distance: number;
}

export interface ReviewItem {
  id: number;
  queryHash: string;
  queryLabel: string | null;
  querySource: string | null;
  /** null once the candidate entry was deleted from the library (its label and hash stay as a snapshot). */
  candidateId: number | null;
  candidateLabel: string | null;
  candidateHash: string | null;
  distance: number;
  status: ReviewStatus;
  createdAt: string;
  resolvedAt: string | null;
  /** The library entry created by resolving `same`. */
  resolvedEntryId: number | null;
}

export interface ResolveResult {
  item: ReviewItem;
  /** Present for `same`: the caller adds it to the in-memory HashIndex. */
  libraryEntry?: LibraryEntry;
}

export function enqueueReviewItem(db: Db, input: NewReviewItem, clock: Clock = createSystemClock()): ReviewItem {
  const item = normalizeNewReviewItem(input);
  const createdAt = new Date(clock.now()).toISOString();
  return db.transaction((): ReviewItem => {
    const info = db
      .prepare(
        'INSERT INTO review_items (query_hash, query_label, query_source, candidate_id, ' +
          'candidate_label, candidate_hash, distance, created_at)\n' +
          '         VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(...getReviewItemInsertValues(item, createdAt));
    const created = getReviewItem(db, Number(info.lastInsertRowid))!;
    appendChange(db, getCreateChange(created.id, item, createdAt));
    return created;
  })();
}

/** A new item after the checks every engine makes (EINVALIDHASH for a hash, EINVALIDOPTION for the distance). */
export interface NormalizedReviewItem {
  queryHash: string;
  queryLabel: string | null;
  querySource: string | null;
  candidateId: number;
  candidateLabel: string | null;
  candidateHash: string | null;
  distance: number;
}

export function normalizeNewReviewItem(input: NewReviewItem): NormalizedReviewItem {
  const queryHash = normalizeHash(input.queryHash, 'queryHash');
  const candidateHash = input.candidateHash === undefined ? null : normalizeHash(input.candidateHash, 'candidateHash');
  if (!Number.isInteger(input.distance) || input.distance < 0 || input.distance > 64) {
    throw createError('EINVALIDOPTION', {
      option: 'distance',
      expected: 'an integer from 0 to 64',
      actual: input.distance,
    });
  }
  return {
    queryHash,
    queryLabel: input.queryLabel ?? null,
    querySource: input.querySource ?? null,
    candidateId: input.candidateId,
    candidateLabel: input.candidateLabel ?? null,
    candidateHash,
    distance: input.distance,
  };
}

/** The change-log row of a new item, the same on every engine. */
export function getCreateChange(id: number, item: NormalizedReviewItem, createdAt: string): Omit<ChangeRecord, 'seq'> {
  return { at: createdAt, kind: 'create', entity: 'review_item', entityId: id, payload: { ...item } };
}

/** The change-log row of a resolution. */
export function getResolveChange(
  id: number,
  verdict: ReviewVerdict,
  resolvedAt: string,
  libraryEntry?: LibraryEntry,
): Omit<ChangeRecord, 'seq'> {
  const payload = { verdict, ...(libraryEntry ? { libraryEntryId: libraryEntry.id } : {}) };
  return { at: resolvedAt, kind: 'resolve', entity: 'review_item', entityId: id, payload };
}

/** Throws EINVALIDOPTION for anything but `same` or `different`. */
export function validateVerdict(verdict: unknown): ReviewVerdict {
  if (verdict !== 'same' && verdict !== 'different') {
    throw createError('EINVALIDOPTION', { option: 'resolution', expected: '`same` or `different`', actual: verdict });
  }
  return verdict;
}

/** Throws EINVALIDOPTION for a status filter that is not a status. */
export function validateStatusFilter(status: unknown): ReviewStatus | undefined {
  if (status !== undefined && !REVIEW_STATUSES.includes(status as ReviewStatus)) {
    throw createError('EINVALIDOPTION', {
      option: 'status',
      expected: `one of ${REVIEW_STATUSES.join(', ')}`,
      actual: status,
    });
  }
  return status as ReviewStatus | undefined;
}

/** Refuses a missing or resolved item (EREVIEWITEMNOTFOUND, EREVIEWALREADYRESOLVED); the library entry `same` adds. */
export function getResolutionEntry(id: number, item: ReviewItem | undefined): NewLibraryEntry {
  if (!item) throw createError('EREVIEWITEMNOTFOUND', { id });
  if (item.status !== 'pending') throw createError('EREVIEWALREADYRESOLVED', { id, status: item.status });
  return {
    label: item.queryLabel ?? item.candidateLabel ?? `review ${id}`,
    hash: item.queryHash,
    source: `review:${id}`,
  };
}

export function getReviewItem(db: Db, id: number): ReviewItem | undefined {
  const row = db.prepare(`SELECT ${REVIEW_ITEM_COLUMNS} FROM review_items WHERE id = ?`).get(id) as
    ReviewItemRow | undefined;
  return row && toReviewItem(row);
}

/** Oldest first; `status` filters (all statuses when omitted). */
export function listReviewItems(db: Db, options: Paging & { status?: ReviewStatus } = {}): Page<ReviewItem> {
  const { limit, offset } = normalizePaging(options);
  const status = validateStatusFilter(options.status);
  const where = status ? 'WHERE status = ?' : '';
  const params = status ? [status] : [];
  const rows = db
    .prepare(`SELECT ${REVIEW_ITEM_COLUMNS} FROM review_items ${where} ORDER BY id LIMIT ? OFFSET ?`)
    .all(...params, limit, offset) as ReviewItemRow[];
  const { total } = db.prepare(`SELECT COUNT(*) AS total FROM review_items ${where}`).get(...params) as {
    total: number;
  };
  return { items: rows.map(toReviewItem), total, limit, offset };
}

/** The `dhash_low_confidence_queue_length` gauge. */
export function countPendingReviews(db: Db): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM review_items WHERE status = 'pending'").get() as { n: number }).n;
}

/**
 * Resolves a pending item once. `same` adds the query hash to the library in the same transaction
 * (labelled with the query's label, else the candidate's) and returns the new entry for the caller's index.
 * Throws EREVIEWITEMNOTFOUND, EREVIEWALREADYRESOLVED (nothing changed), EINVALIDOPTION for another verdict.
 */
export function resolveReviewItem(
  db: Db,
  id: number,
  verdict: ReviewVerdict,
  clock: Clock = createSystemClock(),
): ResolveResult {
  validateVerdict(verdict);
  const resolve = db.transaction((): ResolveResult => {
    const resolution = getResolutionEntry(id, getReviewItem(db, id));
    const libraryEntry = verdict === 'same' ? addLibraryEntry(db, resolution, clock, { viaReview: id }) : undefined;
    const resolvedAt = new Date(clock.now()).toISOString();
    db.prepare(
      "UPDATE review_items SET status = ?, resolved_at = ?, resolved_entry_id = ? WHERE id = ? AND status = 'pending'",
    ).run(verdict, resolvedAt, libraryEntry?.id ?? null, id);
    appendChange(db, getResolveChange(id, verdict, resolvedAt, libraryEntry));
    return { item: getReviewItem(db, id)!, libraryEntry };
  });
  return resolve.immediate();
}
