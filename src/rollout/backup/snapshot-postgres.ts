// A consistent pg_dump (custom format) of a live PostgreSQL database, with the facts the manifest records read in the
// very snapshot the dump is taken from.
import { rm, stat } from 'node:fs/promises';
import type pg from 'pg';
import { createError } from '../../lib/errors.js';
import { quoteIdentifier, withPostgresClient, type PostgresTarget } from './postgres-connection.js';
import { runPostgresTool } from './postgres-tools.js';

/** The service's tables whose row counts a restore is checked against (those that exist). */
export const COUNTED_TABLES = ['schema_migrations', 'library_entries', 'review_items', 'change_log'] as const;

export interface PostgresFacts {
  database: string;
  serverVersion: string;
  /** 0 when no migration has run (no schema_migrations table). */
  schemaVersion: number;
  /** The change log's highest seq (0 without a log). */
  changeLogSeq: number;
  rowCounts: Record<string, number>;
}

export interface PostgresSnapshot extends PostgresFacts {
  sizeBytes: number;
  /** Entries in the dump's table of contents (`pg_restore --list`). */
  tocEntries: number;
}

/** What the database holds now (one read-only transaction), for the plan and the first-deploy check. */
export async function readPostgresFacts(target: PostgresTarget): Promise<PostgresFacts & { sizeBytes: number }> {
  return withPostgresClient(target, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const facts = await readFactsInTransaction(client, target.database);
      const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
      return { ...facts, sizeBytes: Number(size.rows[0]!.size) };
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

/**
 * Dumps `target` into the new file `destFile` with `pg_dump --format=custom`. The facts (schema version,
 * change-log seq, row counts) are read in a repeatable-read transaction whose snapshot pg_dump imports (`--snapshot`),
 * so they describe exactly the dumped data: a seq read after the dump could count a change the dump lacks, and
 * carry-forward would skip it. The dump is then listed with `pg_restore --list` before anyone trusts it. Throws
 * EPGDUMPFAILED.
 */
export async function snapshotPostgresDatabase(
  target: PostgresTarget,
  destFile: string,
  options: { processEnv: Record<string, string | undefined> },
): Promise<PostgresSnapshot> {
  try {
    const facts = await withPostgresClient(target, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
        const read = await readFactsInTransaction(client, target.database);
        await runPostgresTool(
          'pg_dump',
          ['--format=custom', `--file=${destFile}`, `--snapshot=${rows[0]!.id}`, `--dbname=${target.safeUrl}`],
          { target, processEnv: options.processEnv },
        );
        return read;
      } finally {
        await client.query('ROLLBACK').catch(() => {});
      }
    });
    const tocEntries = await listDumpEntries(destFile, options.processEnv);
    return { ...facts, sizeBytes: (await stat(destFile)).size, tocEntries };
  } catch (error) {
    await rm(destFile, { force: true });
    if ((error as { code?: string }).code === 'EPGTOOLMISSING') throw error;
    throw createError('EPGDUMPFAILED', { database: target.safeUrl, reason: (error as Error).message }, error);
  }
}

/** `pg_restore --list`: the number of table-of-contents entries; rejects when the file is not a readable dump. */
export async function listDumpEntries(dumpFile: string, processEnv: Record<string, string | undefined>) {
  const listing = await runPostgresTool('pg_restore', ['--list', dumpFile], { processEnv });
  return listing.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';')).length;
}

/** The facts inside the caller's transaction: tables that do not exist count as absent, not as errors. */
export async function readFactsInTransaction(client: pg.Client, database: string): Promise<PostgresFacts> {
  const version = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  const present = await client.query<{ name: string }>(
    'SELECT t AS name FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL',
    [COUNTED_TABLES],
  );
  const tables = new Set(present.rows.map((r) => r.name));
  const rowCounts: Record<string, number> = {};
  for (const table of COUNTED_TABLES) {
    if (!tables.has(table)) continue;
    const counted = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdentifier(table)}`);
    rowCounts[table] = Number(counted.rows[0]!.n);
  }
  const max = async (table: string, column: string) =>
    tables.has(table)
      ? Number(
          (await client.query<{ m: string }>(`SELECT COALESCE(MAX(${column}), 0)::text AS m FROM ${table}`)).rows[0]!.m,
        )
      : 0;
  return {
    database,
    serverVersion: version.rows[0]!.v,
    schemaVersion: await max('schema_migrations', 'version'),
    changeLogSeq: await max('change_log', 'seq'),
    rowCounts,
  };
}
