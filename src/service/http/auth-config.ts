// Resolves the service's access settings from flags and the environment, and refuses an open non-loopback bind.
import { resolve } from 'node:path';
import { createError } from '../../lib/errors.js';
import { isLoopbackHost, parseApiTokens, readApiTokenFile, type ApiToken } from './auth-tokens.js';
import type { AuthSettings } from './auth.js';

export const API_TOKENS_ENV = 'DHASH_API_TOKENS';
export const API_TOKENS_FILE_ENV = 'DHASH_API_TOKENS_FILE';
export const PROTECT_PROBES_ENV = 'DHASH_PROTECT_PROBES';

export interface AuthSources {
  host: string;
  cwd: string;
  flags: { tokensFile?: string; shouldProtectProbes?: boolean; isInsecureNoAuth?: boolean };
  processEnv: Record<string, string | undefined>;
}

export interface ResolvedAuth {
  /** Undefined when no token is configured: every route is open (loopback, or --insecure-no-auth). */
  settings?: AuthSettings;
  /** Raw token values for the log redactor; never log these. */
  secrets: string[];
  /** Set when the service will listen beyond loopback with no tokens: the caller logs it loudly. */
  warning?: string;
}

/** Tokens from DHASH_API_TOKENS and from --tokens-file (or DHASH_API_TOKENS_FILE), both when both are set. */
export function resolveAuth(sources: AuthSources): ResolvedAuth {
  const { flags, processEnv } = sources;
  const tokens: ApiToken[] = [];
  const secrets: string[] = [];
  const inline = processEnv[API_TOKENS_ENV];
  if (inline !== undefined && inline.trim() !== '') addTokens(parseApiTokens(inline, API_TOKENS_ENV));
  const fileName = flags.tokensFile ?? processEnv[API_TOKENS_FILE_ENV];
  if (fileName !== undefined && fileName !== '') {
    addTokens(
      readApiTokenFile(
        resolve(sources.cwd, fileName),
        flags.tokensFile !== undefined ? '--tokens-file' : API_TOKENS_FILE_ENV,
      ),
    );
  }
  const names = new Set<string>();
  const duplicates = tokens
    .filter((t) => names.size === names.add(t.name).size)
    .map((t) => `the name ${t.name} is used twice`);
  if (duplicates.length > 0)
    throw createError('EINVALIDAPITOKENS', { source: `${API_TOKENS_ENV} and the token file`, problems: duplicates });

  const shouldProtectProbes = flags.shouldProtectProbes === true || isTruthy(processEnv[PROTECT_PROBES_ENV]);
  if (tokens.length > 0) return { settings: { tokens, shouldProtectProbes }, secrets };
  if (shouldProtectProbes)
    throw createError('ENOAPITOKENS', {
      host: sources.host,
      flag: flags.shouldProtectProbes ? '--protect-probes' : PROTECT_PROBES_ENV,
    });
  if (isLoopbackHost(sources.host)) return { secrets };
  if (!flags.isInsecureNoAuth)
    throw createError('ENOAPITOKENS', { host: sources.host, flag: `--host ${sources.host}` });
  return {
    secrets,
    warning:
      `INSECURE: listening on ${sources.host} with no API token (--insecure-no-auth): ` +
      'anyone who can reach the port can change the library and resolve reviews. ' +
      'Set DHASH_API_TOKENS or --tokens-file.',
  };

  function addTokens(parsed: { tokens: ApiToken[]; secrets: string[] }): void {
    tokens.push(...parsed.tokens);
    secrets.push(...parsed.secrets);
  }
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
