// The service's API tokens: parsed from DHASH_API_TOKENS or an owner-only file, kept only as sha256 digests.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createError } from '../../lib/errors.js';

export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Each scope implies the ones before it: admin ⊃ write ⊃ read. */
export const SCOPE_RANK: Record<TokenScope, number> = { read: 1, write: 2, admin: 3 };

/** Short tokens can be guessed; 16 characters is 96 bits of base64 or 64 bits of hex. */
export const MIN_TOKEN_LENGTH = 16;

export interface ApiToken {
  name: string;
  scope: TokenScope;
  /** sha256 of the token: compared in constant time at a fixed length, so neither content nor length leaks. */
  digest: Buffer;
}

export interface ParsedTokens {
  tokens: ApiToken[];
  /** The raw token values, only so the caller can add them to the log redactor; never log or store these. */
  secrets: string[];
}

export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * `name:scope:token` entries separated by commas or newlines; blank lines and `#` comments are skipped.
 * Every problem is reported at once, naming the entry by position and name but never its token.
 */
export function parseApiTokens(text: string, source: string): ParsedTokens {
  const tokens: ApiToken[] = [];
  const secrets: string[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  entries.forEach((entry, i) => {
    const [name = '', scope = '', ...rest] = entry.split(':');
    const token = rest.join(':');
    const where = `entry ${i + 1}${/^[\w.-]+$/.test(name) ? ` (${name})` : ''}`;
    if (!/^[\w.-]{1,64}$/.test(name)) problems.push(`${where}: the name must be 1-64 letters, digits, '_', '.' or '-'`);
    else if (names.has(name)) problems.push(`${where}: the name ${name} is used twice`);
    names.add(name);
    if (!(TOKEN_SCOPES as readonly string[]).includes(scope))
      problems.push(`${where}: the scope must be read, write or admin, got \`${scope}\``);
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      problems.push(
        `${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (got ${token.length})`,
      );
    }
    tokens.push({ name, scope: scope as TokenScope, digest: digestToken(token) });
    secrets.push(token);
  });
  if (entries.length === 0) problems.push('no token is defined');
  if (problems.length > 0) throw createError('EINVALIDAPITOKENS', { source, problems });
  return { tokens, secrets };
}

/** Reads a token file, refusing one that its group or others could read or write (mode & 077). */
export function readApiTokenFile(file: string, source: string): ParsedTokens {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw createError('EAPITOKENFILENOTFOUND', { file, source, reason }, error);
  }
  if ((mode & 0o077) !== 0) throw createError('EAPITOKENFILEMODE', { file, mode: `0${(mode & 0o777).toString(8)}` });
  return parseApiTokens(text, file);
}

/** True for addresses only this host can reach: 127.0.0.0/8, ::1, ::ffff:127.x and the name `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}
