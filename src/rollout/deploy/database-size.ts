// The live database's size, for preflight's backup estimate: the SQLite file's bytes, or PostgreSQL's
// pg_database_size.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ResolvedEnvironment } from '../config/environments.js';
import { getPostgresTarget, withPostgresClient } from '../backup/postgres-connection.js';

/**
 * SQLite: the file's size (0 before the first deploy). PostgreSQL: `pg_database_size(current_database())`, one
 * catalog read (never row counts: a count(*) scans whole tables). Throws EDATABASEURLMISSING, or the connection
 * error with the password scrubbed.
 */
export async function getDatabaseSizeBytes(environment: ResolvedEnvironment): Promise<number> {
  if (environment.database.engine === 'sqlite')
    return existsSync(environment.databaseFile) ? (await stat(environment.databaseFile)).size : 0;
  return withPostgresClient(getPostgresTarget(environment), async (client) => {
    const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    return Number(rows[0]!.size);
  });
}
