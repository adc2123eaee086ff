// The service's PostgreSQL URL: where it comes from, its validation, and the form of it that may be shown.
// Free of `pg` itself, so a SQLite service never loads the driver.
import { createError } from '../../../lib/errors.js';

/** The environment variable the service reads its PostgreSQL URL from (ARCHITECTURE.md). */
export const DATABASE_URL_ENV = 'DHASH_DATABASE_URL';

/**
 * The URL without its password or query (either may hold a secret): `postgres://dhash@10.0.0.5:5432/dhash`.
 * The only form of the URL that may appear in logs, errors and /health.
 */
export function describePostgresUrl(url: string): string {
  const parsed = parsePostgresUrl(url);
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  return `postgres://${user}${parsed.host || 'localhost'}${parsed.pathname}`;
}

/** Validates a postgres:// URL; a malformed one is EINVALIDOPTION naming the variable, never showing its value. */
export function parsePostgresUrl(url: string, variable = DATABASE_URL_ENV): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const database = parsed ? decodeURIComponent(parsed.pathname.replace(/^\//, '')) : '';
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !database || database.includes('/')) {
    throw createError('EINVALIDOPTION', {
      option: variable,
      // Not "postgres://<user>:<password>@…": the redactor rightly scrubs that shape from every message.
      expected: 'a postgres:// URL (user, password, host, port, database)',
      actual: '(value not shown: it may hold a password)',
    });
  }
  return parsed;
}
