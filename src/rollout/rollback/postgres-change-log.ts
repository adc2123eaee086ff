// Reads a PostgreSQL database's change log for carry-forward (read-only SQL over the service's change_log table).
import type pg from 'pg';
import { CHANGE_LOG_TABLE, type ChangeRecord } from '../../service/store/index.js';
import { selectPgChange, selectPgChangesSince } from '../../service/store/postgres/pg-change-log.js';
import { getLineageProblem } from './carry-forward-changes.js';
import { withPostgresClient, type PostgresTarget } from '../backup/postgres-connection.js';

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
    return { changes: await selectPgChangesSince(client, mark), atMark: await selectPgChange(client, mark) };
  });
  if (mark === 0) return { changes };
  const inBackup = await withPostgresClient(backup, async (client) =>
    (await hasChangeLog(client)) ? selectPgChange(client, mark) : undefined,
  );
  const lineageProblem = getLineageProblem(mark, atMark, inBackup);
  return lineageProblem ? { changes, lineageProblem } : { changes };
}

async function hasChangeLog(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    CHANGE_LOG_TABLE,
  ]);
  return rows[0]!.found;
}
