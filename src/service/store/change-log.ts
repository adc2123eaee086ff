// The append-only change log: one row per library or review change, written in the change's own transaction.
import type Database from 'better-sqlite3';

type Db = Database.Database;

export const CHANGE_LOG_TABLE = 'change_log';

export type ChangeKind = 'add' | 'delete' | 'create' | 'resolve';
export type ChangeEntity = 'library_entry' | 'review_item';

export interface ChangeRecord {
  seq: number;
  /** ISO 8601 UTC, the change's own time. */
  at: string;
  kind: ChangeKind;
  entity: ChangeEntity;
  /** The entity's id in the database that logged the change. */
  entityId: number;
  payload: Record<string, unknown>;
}

interface ChangeRow {
  seq: number;
  at: string;
  kind: ChangeKind;
  entity: ChangeEntity;
  entity_id: number;
  payload: string;
}

// Positive answers only: a database migrated later on the same handle gets its log from then on.
const hasTable = new WeakSet<Db>();

/** Whether this database has the log (schema 2 and later); a restored older database has none. */
export function hasChangeLog(db: Db): boolean {
  if (hasTable.has(db)) return true;
  const found =
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(CHANGE_LOG_TABLE) !== undefined;
  if (found) hasTable.add(db);
  return found;
}

/**
 * Appends one change; call inside the transaction that makes the change, so the log never disagrees with the data.
 * One small INSERT with an integer key: cheap enough to write on every change. A database without the table
 * (an older schema the previous release runs on) logs nothing.
 */
export function appendChange(db: Db, change: Omit<ChangeRecord, 'seq'>): void {
  if (!hasChangeLog(db)) return;
  db.prepare(`INSERT INTO ${CHANGE_LOG_TABLE} (at, kind, entity, entity_id, payload) VALUES (?, ?, ?, ?, ?)`).run(
    change.at,
    change.kind,
    change.entity,
    change.entityId,
    JSON.stringify(change.payload),
  );
}

/** The highest seq written so far (0 for an empty log or none): the high-water mark a backup records. */
export function getChangeLogSeq(db: Db): number {
  if (!hasChangeLog(db)) return 0;
  return (db.prepare(`SELECT COALESCE(MAX(seq), 0) AS seq FROM ${CHANGE_LOG_TABLE}`).get() as { seq: number }).seq;
}

/** Changes with seq > `afterSeq`, oldest first; at most `limit` when given (an index follower reads in batches). */
export function listChangesSince(db: Db, afterSeq: number, limit = -1): ChangeRecord[] {
  if (!hasChangeLog(db)) return [];
  const rows = db
    .prepare(
      `SELECT seq, at, kind, entity, entity_id, payload FROM ${CHANGE_LOG_TABLE} WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    .all(afterSeq, limit) as ChangeRow[];
  return rows.map(toChange);
}

/** One change by seq, or undefined (used to check that a live log descends from a backup's). */
export function getChange(db: Db, seq: number): ChangeRecord | undefined {
  if (!hasChangeLog(db)) return undefined;
  const row = db
    .prepare(`SELECT seq, at, kind, entity, entity_id, payload FROM ${CHANGE_LOG_TABLE} WHERE seq = ?`)
    .get(seq) as ChangeRow | undefined;
  return row && toChange(row);
}

const toChange = (r: ChangeRow): ChangeRecord => ({
  seq: r.seq,
  at: r.at,
  kind: r.kind,
  entity: r.entity,
  entityId: r.entity_id,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
});
