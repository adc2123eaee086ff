// Restoring a PostgreSQL backup: pg_restore into a fresh database beside the live one, verify it, then switch the two
// by renaming (the live one is kept as the pre-rollback database).
import type pg from 'pg';
import type { BackupManifest } from '../core/backup-manifest.js';
import { createError } from '../../lib/errors.js';
import {
  quoteIdentifier,
  scrubPassword,
  withDatabase,
  withPostgresClient,
  type PostgresTarget,
} from '../backup/postgres-connection.js';
import { runPostgresTool } from '../backup/postgres-tools.js';
import { readFactsInTransaction, type PostgresFacts } from '../backup/snapshot-postgres.js';

/** PostgreSQL truncates identifiers to 63 bytes: names are built to fit, so the truncated name never collides. */
const MAX_IDENTIFIER_BYTES = 63;
/** Databases tried for the rename (one cannot rename the database one is connected to). */
const MAINTENANCE_DATABASES = ['postgres', 'template1'];
/** Attempts at the rename while a reconnecting client keeps grabbing the database again. */
const RENAME_ATTEMPTS = 5;

/** `<db>_<tag>_<UTC timestamp>`, shortened from the left part so the whole fits in 63 bytes. */
export function createSideDatabaseName(database: string, tag: 'restore' | 'prerollback', atMs: number): string {
  const stamp = new Date(atMs).toISOString().replace(/[-:.]/g, '').toLowerCase();
  const suffix = `_${tag}_${stamp}`;
  let base = database;
  while (Buffer.byteLength(base + suffix) > MAX_IDENTIFIER_BYTES) base = base.slice(0, -1);
  return base + suffix;
}

/**
 * Creates `freshName` (from template0, with the live database's encoding and collation), pg_restores the dump into it
 * in one transaction, and checks it against the manifest: schema version, change-log seq and every recorded row count.
 * The live database is only read. Any failure drops the fresh database and throws EPGRESTOREFAILED.
 */
export async function restoreIntoFreshDatabase(
  live: PostgresTarget,
  dumpFile: string,
  freshName: string,
  manifest: BackupManifest,
  processEnv: Record<string, string | undefined>,
): Promise<PostgresFacts> {
  const fresh = withDatabase(live, freshName);
  let step = 'check the switch-over is allowed';
  try {
    await withPostgresClient(live, async (client) => {
      // Checked before anything is created or stopped: a rename refused after the stop would leave nothing serving.
      const { rows: owner } = await client.query<{ owner: string; isAllowed: boolean }>(
        'SELECT pg_get_userbyid(d.datdba) AS owner, (d.datdba = r.oid OR r.rolsuper) AS "isAllowed" ' +
          'FROM pg_database d, pg_roles r WHERE d.datname = current_database() AND r.rolname = current_user',
      );
      if (!owner[0]?.isAllowed)
        throw new Error(
          `the role ${client.user} does not own the database ${live.database} (its owner is ${owner[0]?.owner}), ` +
            `and ALTER DATABASE … RENAME needs the owner: as a superuser run ` +
            `ALTER DATABASE ${quoteIdentifier(live.database)} OWNER TO ${quoteIdentifier(client.user ?? '')}`,
        );
      step = 'create the database';
      const { rows } = await client.query<{ encoding: string; collate: string; ctype: string }>(
        'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype ' +
          'FROM pg_database WHERE datname = current_database()',
      );
      const { encoding, collate, ctype } = rows[0]!;
      const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
      await client.query(
        `CREATE DATABASE ${quoteIdentifier(freshName)} TEMPLATE template0 ENCODING ${literal(encoding)} ` +
          `LC_COLLATE ${literal(collate)} LC_CTYPE ${literal(ctype)}`,
      );
    });
    step = 'pg_restore';
    // Objects belong to the connecting role, as the service expects; grants of the source server are not replayed.
    const args = ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction'];
    await runPostgresTool('pg_restore', [...args, `--dbname=${fresh.safeUrl}`, dumpFile], {
      target: fresh,
      processEnv,
    });
    step = 'verify the restored database';
    const facts = await withPostgresClient(fresh, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await readFactsInTransaction(client, freshName);
      } finally {
        await client.query('ROLLBACK');
      }
    });
    const mismatches = compareWithBackup(facts, manifest);
    if (mismatches.length > 0) throw new Error(`it does not match the backup: ${mismatches.join('; ')}`);
    return facts;
  } catch (error) {
    await dropDatabase(live, freshName).catch(() => {});
    const reason = scrubPassword(live, (error as Error).message);
    throw createError('EPGRESTOREFAILED', { database: freshName, step, reason }, error);
  }
}

/** What the restored database holds against what the manifest recorded; one line per difference. */
export function compareWithBackup(facts: PostgresFacts, manifest: BackupManifest): string[] {
  const out: string[] = [];
  if (manifest.schemaVersion !== null && facts.schemaVersion !== manifest.schemaVersion)
    out.push(`schema version ${facts.schemaVersion}, the backup recorded ${manifest.schemaVersion}`);
  if (manifest.changeLogSeq !== undefined && facts.changeLogSeq !== manifest.changeLogSeq)
    out.push(`change log seq ${facts.changeLogSeq}, the backup recorded ${manifest.changeLogSeq}`);
  for (const [table, expected] of Object.entries(manifest.postgres?.rowCounts ?? {})) {
    const actual = facts.rowCounts[table];
    if (actual !== expected)
      out.push(`${table} has ${actual ?? 'no table and no'} rows, the backup recorded ${expected}`);
  }
  return out;
}

/**
 * Renames the live database to `asideName` and `restoredName` into its place, in one transaction (both or neither),
 * after terminating the connections left on either. Run with the service stopped. Needs the role to own both databases
 * (ALTER DATABASE … RENAME). Throws EPGRESTOREFAILED with nothing renamed when it cannot.
 */
export async function switchDatabases(live: PostgresTarget, restoredName: string, asideName: string): Promise<void> {
  try {
    await withMaintenanceClient(live, async (client) => {
      for (let attempt = 1; ; attempt++) {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
          [[live.database, restoredName]],
        );
        try {
          await client.query('BEGIN');
          await client.query(
            `ALTER DATABASE ${quoteIdentifier(live.database)} RENAME TO ${quoteIdentifier(asideName)}`,
          );
          await client.query(
            `ALTER DATABASE ${quoteIdentifier(restoredName)} RENAME TO ${quoteIdentifier(live.database)}`,
          );
          await client.query('COMMIT');
          return;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          // 55006: "being accessed by other users": a client reconnected between the terminate and the rename.
          if ((error as { code?: string }).code !== '55006' || attempt >= RENAME_ATTEMPTS) throw error;
        }
      }
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'EPGRESTOREFAILED') throw error;
    throw createError(
      'EPGRESTOREFAILED',
      { database: live.database, step: 'switch-over', reason: scrubPassword(live, (error as Error).message) },
      error,
    );
  }
}

/** Drops `name` (terminating its connections); no error when it does not exist. Never the live database. */
export async function dropDatabase(live: PostgresTarget, name: string): Promise<void> {
  if (name === live.database) throw new Error(`refusing to drop the live database ${name}`);
  await withPostgresClient(live, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
  );
}

/** A client on a database other than the two being renamed; the first maintenance database that accepts us. */
async function withMaintenanceClient<T>(live: PostgresTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (const name of MAINTENANCE_DATABASES) {
    let isConnected = false;
    try {
      return await withPostgresClient(withDatabase(live, name), (client) => {
        isConnected = true;
        return fn(client);
      });
    } catch (error) {
      if (isConnected) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
