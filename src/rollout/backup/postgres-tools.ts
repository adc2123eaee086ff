// Runs PostgreSQL's client programs (pg_dump, pg_restore) with the password in the child's PGPASSWORD, never in argv.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createError } from '../../lib/errors.js';
import { scrubPassword, type PostgresTarget } from './postgres-connection.js';

export type PostgresTool = 'pg_dump' | 'pg_restore';

const DEBIAN_ROOT = '/usr/lib/postgresql';
/** Output kept from a failing tool: the last lines say why. */
const REASON_LINES = 4;

/**
 * The program to run: DHASH_PG_BIN_DIR when set, else the newest Debian/Ubuntu versioned folder (pg_dump must be at
 * least the server's version, and /usr/bin's wrapper picks by local cluster, which a client host has none of), else
 * PATH. Throws EPGTOOLMISSING naming where it looked.
 */
export function findPostgresTool(tool: PostgresTool, processEnv: Record<string, string | undefined>): string {
  const searched: string[] = [];
  const explicit = processEnv.DHASH_PG_BIN_DIR;
  const dirs = explicit ? [explicit] : [...listDebianBinDirs(), ...(processEnv.PATH ?? '').split(delimiter)];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, tool);
    searched.push(dir);
    if (existsSync(candidate)) return candidate;
  }
  throw createError('EPGTOOLMISSING', { tool, searched: explicit ? [explicit] : searched.slice(0, 6) });
}

function listDebianBinDirs(): string[] {
  if (!existsSync(DEBIAN_ROOT)) return [];
  return readdirSync(DEBIAN_ROOT)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(DEBIAN_ROOT, v, 'bin'));
}

/**
 * The child's environment: the caller's, with PGPASSWORD set from the URL and any inherited PG connection variables
 * removed, so the URL alone decides where the tool connects.
 */
export function createToolEnv(
  target: PostgresTarget | undefined,
  processEnv: Record<string, string | undefined>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(processEnv)) {
    if (value === undefined) continue;
    if (['PGPASSWORD', 'PGPASSFILE', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSERVICE'].includes(name)) continue;
    env[name] = value;
  }
  if (target?.password) env.PGPASSWORD = target.password;
  return env;
}

/**
 * Runs `tool` with `args` (which name the database by `target.safeUrl`, never the full URL); resolves with stdout.
 * Rejects with an Error whose message is the tool's last stderr lines, scrubbed of the password.
 */
export async function runPostgresTool(
  tool: PostgresTool,
  args: string[],
  options: { target?: PostgresTarget; processEnv: Record<string, string | undefined>; timeoutMs?: number },
): Promise<string> {
  const file = findPostgresTool(tool, options.processEnv);
  if (options.target && args.some((a) => a.includes(options.target!.url) && options.target!.password))
    throw new Error(`refusing to pass a URL with its password to ${tool} on the command line`);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: createToolEnv(options.target, options.processEnv), maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const lines = String(stderr).trim().split('\n').filter(Boolean).slice(-REASON_LINES).join(' ');
        const exit = error.code === undefined ? '' : ` (exit ${String(error.code)})`;
        const reason = `${tool}${exit}: ${lines || error.message}`;
        reject(new Error(options.target ? scrubPassword(options.target, reason) : reason));
      },
    );
  });
}
