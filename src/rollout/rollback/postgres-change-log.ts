// Reads a PostgreSQL database's change log for carry-forward (read-only SQL over the service's change_log table).
import type pg from 'pg';
import { CHANGE_LOG_TABLE, type ChangeRecord } from '../../service/store/index.js';
import { withPostgresClient, type PostgresTarget } from '../backup/postgres-connection.js';

interface ChangeRow {
  seq: string;
  at: string;
  kind: ChangeRecord['kind'];
  entity: ChangeRecord['entity'];
  entity_id: string;
  payload: string;
}

const COLUMNS = 'seq::text AS seq, at, kind, entity, entity_id::text AS entity_id, payload';

/**
 * The changes after `mark` in `source`, and whether its log descends from `backup`'s: the change at `mark` must be
 * the same in both, otherwise the seqs mean different things and nothing may be carried (reported as a problem).
 */
export async function readPostgresChangesToCarry(
  source: PostgresTarget,
  backup: PostgresTarget,
  mark: number,
): Promise<{ changes: ChangeRecord[]; lineageProblem?: string }> {
  const { changes, atMark } = await withPostgresClient(source, async (client) => {
    if (!(await hasChangeLog(client))) return { changes: [], atMark: undefined };
    const rows = await client.query<ChangeRow>(
      `SELECT ${COLUMNS} FROM ${CHANGE_LOG_TABLE} WHERE seq > $1 ORDER BY seq`,
      [mark],
    );
    return { changes: rows.rows.map(toChange), atMark: await getChangeAt(client, mark) };
  });
  if (mark === 0) return { changes };
  const inBackup = await withPostgresClient(backup, async (client) =>
    (await hasChangeLog(client)) ? getChangeAt(client, mark) : undefined,
  );
  const isSame =
    atMark &&
    inBackup &&
    atMark.at === inBackup.at &&
    atMark.kind === inBackup.kind &&
    atMark.entity === inBackup.entity &&
    atMark.entityId === inBackup.entityId;
  return isSame
    ? { changes }
    : { changes, lineageProblem: `the live change log does not descend from the backup's (change ${mark} differs)` };
}

async function hasChangeLog(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    CHANGE_LOG_TABLE,
  ]);
  return rows[0]!.found;
}

async function getChangeAt(client: pg.Client, seq: number): Promise<ChangeRecord | undefined> {
  const { rows } = await client.query<ChangeRow>(`SELECT ${COLUMNS} FROM ${CHANGE_LOG_TABLE} WHERE seq = $1`, [seq]);
  return rows[0] && toChange(rows[0]);
}

const toChange = (r: ChangeRow): ChangeRecord => ({
  seq: Number(r.seq),
  at: r.at,
  kind: r.kind,
  entity: r.entity,
  entityId: Number(r.entity_id),
  payload: JSON.parse(r.payload) as Record<string, unknown>,
});
