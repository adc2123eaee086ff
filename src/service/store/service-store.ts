// The store the HTTP layer uses, whatever the engine: library, review queue, change feed, schema check.
import type { LibraryEntry, LibraryHashHalves, NewLibraryEntry, Page, Paging } from '../library/library-repository.js';
import type {
  NewReviewItem,
  ResolveResult,
  ReviewItem,
  ReviewStatus,
  ReviewVerdict,
} from '../review/review-repository.js';
import type { ChangeRecord } from './change-log.js';

export type StoreEngine = 'sqlite' | 'postgres';

/** The library as the in-memory index needs it, and the change-log seq it reflects (read in one snapshot). */
export interface LibrarySnapshot extends LibraryHashHalves {
  /** Every change with a higher seq is newer than this snapshot: the follower starts from here. */
  seq: number;
}

export type SchemaCheck = { ok: true; schemaVersion: number } | { ok: false; detail: string };

/**
 * Both implementations (SQLite, PostgreSQL) validate the same way, throw the same coded errors (so the routes answer
 * the same status and JSON) and write each change with its change_log row in one transaction. Every method may
 * reject with the engine's own error when the database is unreachable; the routes answer those with 500.
 */
export interface ServiceStore {
  readonly engine: StoreEngine;
  /** The database for logs and /health: a file path, or a PostgreSQL URL without its password. */
  readonly description: string;

  /** Throws EINVALIDOPTION / EINVALIDHASH for bad input. Not idempotent: each call adds an entry. */
  addLibraryEntry(input: NewLibraryEntry): Promise<LibraryEntry>;
  getLibraryEntry(id: number): Promise<LibraryEntry | undefined>;
  /** The entries that still exist among `ids`, in the order of `ids` (a match verifies its index hits here). */
  getLibraryEntries(ids: readonly number[]): Promise<LibraryEntry[]>;
  /** Oldest first; throws EINVALIDOPTION naming a bad `limit` or `offset`. */
  listLibraryEntries(paging?: Paging): Promise<Page<LibraryEntry>>;
  /** Throws ELIBRARYENTRYNOTFOUND when absent (nothing changed). */
  deleteLibraryEntry(id: number): Promise<LibraryEntry>;
  countLibraryEntries(): Promise<number>;
  /** Every (id, hash) and the seq they reflect, from one consistent snapshot. */
  readLibraryHashes(): Promise<LibrarySnapshot>;

  enqueueReviewItem(input: NewReviewItem): Promise<ReviewItem>;
  getReviewItem(id: number): Promise<ReviewItem | undefined>;
  listReviewItems(options?: Paging & { status?: ReviewStatus }): Promise<Page<ReviewItem>>;
  /** Resolves once: EREVIEWITEMNOTFOUND, EREVIEWALREADYRESOLVED (nothing changed), EINVALIDOPTION for a bad verdict. */
  resolveReviewItem(id: number, verdict: ReviewVerdict): Promise<ResolveResult>;
  /** The `dhash_low_confidence_queue_length` gauge. */
  countPendingReviews(): Promise<number>;

  /** Changes with seq > `afterSeq`, oldest first, at most `limit` (default 1000). */
  listChangesSince(afterSeq: number, limit?: number): Promise<ChangeRecord[]>;
  /** The highest seq written so far (0 for an empty log). */
  getChangeLogSeq(): Promise<number>;
  /**
   * Calls `listener` soon after another connection commits a change (PostgreSQL LISTEN/NOTIFY), so a follower can
   * poll early; a hint only, never the data. Returns the unsubscribe function. SQLite has no such signal: a no-op.
   */
  onChangeHint(listener: () => void): () => void;

  /** For /health: the database answers and has this release's schema. Never throws. */
  checkSchema(): Promise<SchemaCheck>;
  /** Before serving: throws ESCHEMABEHIND, ESCHEMAAHEAD or EMIGRATIONEDITED when the schema is not this release's. */
  assertSchemaCurrent(): Promise<void>;
  /** Closes the handle or pool; idempotent. */
  close(): Promise<void>;
}
