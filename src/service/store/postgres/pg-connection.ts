// Connections to the service's PostgreSQL: the pool, a URL made safe to show, and one-client / one-transaction helpers.
import pg from 'pg';
import { parsePostgresUrl } from './pg-url.js';

// Callers that imported the URL helpers from here before they moved to pg-url.ts keep working.
export { describePostgresUrl, parsePostgresUrl, DATABASE_URL_ENV } from './pg-url.js';

/** What the PostgreSQL functions accept: the service's pool, or a client the caller connected (the rollout's). */
export type PgConnection = pg.Pool | pg.Client;

export interface PostgresPoolOptions {
  /** Connections at most; default 10 (the HTTP routes each hold one for a query or two). */
  maxConnections?: number;
  /** How long a checkout or a new connection may wait; default 5000. */
  connectTimeoutMs?: number;
  /** Server-side limit on one statement, so a stuck query frees its connection; default 30000. */
  statementTimeoutMs?: number;
}

/** A pool over `url`. Its idle clients' errors (the server restarting) are absorbed: the next query reports them. */
export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  parsePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
    application_name: 'dhash',
  });
  // Unhandled, an idle client's 'error' event would crash the process; the pool drops that client by itself.
  pool.on('error', () => {});
  return pool;
}

/** `postgres://user@host:port/database` of a connected client, for messages (no password). */
export function describeClient(client: pg.Client): string {
  return `postgres://${client.user ? `${client.user}@` : ''}${client.host}:${client.port}/${client.database ?? ''}`;
}

/** Runs `fn` on one client: a checked-out pool client (always released), or the caller's client itself. */
export async function withPgClient<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  if (!(connection instanceof pg.Pool)) return fn(connection);
  const client = await connection.connect();
  let isBroken = false;
  try {
    return await fn(client);
  } catch (error) {
    // A connection error leaves the client unusable: destroy it rather than hand it to the next caller.
    isBroken = client.getTransactionStatus() !== 'I';
    throw error;
  } finally {
    client.release(isBroken);
  }
}

export interface PgTransactionOptions {
  /** `repeatable read` gives every statement one snapshot (the index load reads the library and the seq together). */
  isolation?: 'read committed' | 'repeatable read';
  isReadOnly?: boolean;
}

/** BEGIN … COMMIT around `fn`; any error rolls back and is rethrown (a failed ROLLBACK destroys the client). */
export async function withPgTransaction<T>(
  connection: PgConnection,
  fn: (client: pg.Client) => Promise<T>,
  options: PgTransactionOptions = {},
): Promise<T> {
  return withPgClient(connection, async (client) => {
    const mode = `${options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : ''}`;
    await client.query(`BEGIN${mode}${options.isReadOnly ? ' READ ONLY' : ''}`);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * The one lock every library and review write takes first, held to its commit. It makes writes commit in the order
 * their change_log seq was assigned (as SQLite's single writer does), so a follower reading `seq > lastSeq` never
 * passes over a change that is still to commit; taken first, it cannot deadlock with the row locks that follow.
 */
export const CHANGE_LOG_LOCK_KEY = 0x64686173; // "dhas"

/** A transaction for a library or review change: the change-log lock, then `fn`. */
export function withPgWriteTransaction<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPgTransaction(connection, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_LOG_LOCK_KEY]);
    return fn(client);
  });
}
