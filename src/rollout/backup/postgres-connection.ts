// How the rollout reaches an environment's PostgreSQL: the URL from its variable, split so the password never
// travels in argv, logs or errors.
import pg from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';

export interface PostgresTarget {
  /** The full URL, password included: only ever handed to `pg` or split into a child's PGPASSWORD. */
  url: string;
  /** The variable it came from (DHASH_DATABASE_URL by default), named in errors. */
  urlEnv: string;
  /** The database name in the URL's path. */
  database: string;
  /** The decoded password ('' when the URL has none). */
  password: string;
  /** The URL without its password: safe to log and to pass to pg_dump as --dbname. */
  safeUrl: string;
}

/** The environment's PostgreSQL target; throws EDATABASEURLMISSING (exit 2) when its variable is not set. */
export function getPostgresTarget(environment: ResolvedEnvironment): PostgresTarget {
  const database = environment.database;
  if (database.engine !== 'postgres')
    throw new Error(`getPostgresTarget called for ${environment.name}, whose engine is ${database.engine}`);
  if (!database.url) throw createError('EDATABASEURLMISSING', { env: environment.name, variable: database.urlEnv });
  return parsePostgresUrl(database.url, database.urlEnv);
}

/** Splits a postgres:// URL; a malformed one is EINVALIDOPTION naming the variable (never its value). */
export function parsePostgresUrl(url: string, urlEnv: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || !name || name.includes('/')) {
    throw createError('EINVALIDOPTION', {
      option: urlEnv,
      expected: 'a URL postgres://<user>:<password>@<host>:<port>/<database>',
      actual: '(value not shown: it may hold a password)',
    });
  }
  // libpq also takes the password as a query parameter: it must not reach argv or logs that way either.
  const password = decodeURIComponent(parsed.password) || (parsed.searchParams.get('password') ?? '');
  const safe = new URL(url);
  safe.password = '';
  safe.searchParams.delete('password');
  return { url, urlEnv, database: name, password, safeUrl: safe.toString() };
}

/** The same server and credentials, another database (the restore target, the maintenance database). */
export function withDatabase(target: PostgresTarget, database: string): PostgresTarget {
  const url = new URL(target.url);
  url.pathname = `/${encodeURIComponent(database)}`;
  return parsePostgresUrl(url.toString(), target.urlEnv);
}

/** Replaces the password wherever a message might carry it (a driver error echoing its input). */
export function scrubPassword(target: Pick<PostgresTarget, 'password'>, text: string): string {
  if (target.password.length < 1) return text;
  return text.split(target.password).join('[REDACTED]');
}

/** Quotes an identifier (database names are chosen by operators: never interpolated raw). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Runs `fn` with one connected client and always closes it; connection errors are scrubbed of the password. */
export async function withPostgresClient<T>(target: PostgresTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle client whose server goes away emits 'error'; unhandled, it would crash the CLI.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(`cannot connect to ${target.safeUrl}: ${scrubPassword(target, (error as Error).message)}`, {
      cause: error,
    });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
