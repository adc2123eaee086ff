// The change log on PostgreSQL: appended in the change's own transaction, read by the index followers and the rollout.
import type pg from 'pg';
import { CHANGE_LOG_TABLE, type ChangeRecord } from '../change-log.js';
import { withPgClient, type PgConnection } from './pg-connection.js';

/** The channel a write notifies on commit, so followers poll at once instead of at their next tick. */
export const CHANGE_CHANNEL = 'dhash_change_log';

interface ChangeRow {
  seq: string | number;
  at: string;
  kind: ChangeRecord['kind'];
  entity: ChangeRecord['entity'];
  entity_id: string | number;
  payload: string;
}

const COLUMNS = 'seq, at, kind, entity, entity_id, payload';

/**
 * Appends one change inside the caller's write transaction (withPgWriteTransaction: the change-log lock is held, so
 * seq order is commit order) and queues the wake-up NOTIFY, which PostgreSQL delivers only if the transaction commits.
 */
export async function appendPgChange(client: pg.Client, change: Omit<ChangeRecord, 'seq'>): Promise<void> {
  await client.query(
    `INSERT INTO ${CHANGE_LOG_TABLE} (at, kind, entity, entity_id, payload) VALUES ($1, $2, $3, $4, $5)`,
    [change.at, change.kind, change.entity, change.entityId, JSON.stringify(change.payload)],
  );
  await client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, '']);
}

/** Changes with seq > `afterSeq`, oldest first, at most `limit`. */
export function listPgChangesSince(connection: PgConnection, afterSeq: number, limit = 1000): Promise<ChangeRecord[]> {
  return withPgClient(connection, (client) => selectPgChangesSince(client, afterSeq, limit));
}

/** The same on one client; every change after `afterSeq` when `limit` is omitted (the rollout's carry-forward). */
export async function selectPgChangesSince(
  client: pg.Client,
  afterSeq: number,
  limit?: number,
): Promise<ChangeRecord[]> {
  const result =
    limit === undefined
      ? await client.query<ChangeRow>(`SELECT ${COLUMNS} FROM ${CHANGE_LOG_TABLE} WHERE seq > $1 ORDER BY seq`, [
          afterSeq,
        ])
      : await client.query<ChangeRow>(
          `SELECT ${COLUMNS} FROM ${CHANGE_LOG_TABLE} WHERE seq > $1 ORDER BY seq LIMIT $2`,
          [afterSeq, limit],
        );
  return result.rows.map(toChange);
}

/** The highest seq written so far (0 for an empty log): the high-water mark a backup records. */
export function getPgChangeLogSeq(connection: PgConnection): Promise<number> {
  return withPgClient(connection, (client) => readPgChangeLogSeq(client));
}

/** The same on one client, inside the caller's snapshot. */
export async function readPgChangeLogSeq(client: pg.Client): Promise<number> {
  const result = await client.query<{ seq: string }>(`SELECT COALESCE(MAX(seq), 0) AS seq FROM ${CHANGE_LOG_TABLE}`);
  return Number(result.rows[0].seq);
}

/** One change by seq, or undefined (checks that a live log descends from a backup's). */
export function getPgChange(connection: PgConnection, seq: number): Promise<ChangeRecord | undefined> {
  return withPgClient(connection, (client) => selectPgChange(client, seq));
}

/** The same on one client. */
export async function selectPgChange(client: pg.Client, seq: number): Promise<ChangeRecord | undefined> {
  const result = await client.query<ChangeRow>(`SELECT ${COLUMNS} FROM ${CHANGE_LOG_TABLE} WHERE seq = $1`, [seq]);
  return result.rows[0] && toChange(result.rows[0]);
}

// BIGINT arrives as a string from pg: ids and seqs stay far below 2^53, so a number is exact.
const toChange = (r: ChangeRow): ChangeRecord => ({
  seq: Number(r.seq),
  at: r.at,
  kind: r.kind,
  entity: r.entity,
  entityId: Number(r.entity_id),
  payload: JSON.parse(r.payload) as Record<string, unknown>,
});
