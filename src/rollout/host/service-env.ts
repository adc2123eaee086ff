// `<root>/shared/service.env`: the service's secrets on a fleet host (DHASH_DATABASE_URL, DHASH_API_TOKENS…), one
// KEY=value a line; written by the controller over stdin, read by `dhash host activate|rollback` before a restart.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../../lib/errors.js';
import type { ResolvedEnvironment } from '../config/environments.js';

export const SERVICE_ENV_FILE = 'service.env';

const NAME = /^[A-Z_][A-Z0-9_]*$/;
/** Values written bare; anything else is single-quoted, which both this parser and systemd's EnvironmentFile read. */
const BARE_VALUE = /^[A-Za-z0-9_@%+=:,./~^-]*$/;

export function getServiceEnvFile(environment: ResolvedEnvironment): string {
  return join(environment.sharedDir, SERVICE_ENV_FILE);
}

/** Problems with the variables, each naming the variable (never its value): empty when they can be written. */
export function validateServiceEnvVars(vars: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (!NAME.test(name)) problems.push(`\`${name}\` is not an environment variable name (A-Z, 0-9, _)`);
    if (typeof value !== 'string') problems.push(`${name}: the value is not a string`);
    else if (/[\n\r\0]/.test(value)) problems.push(`${name}: the value holds a line break or NUL`);
    else if (!BARE_VALUE.test(value) && /['\\]/.test(value))
      problems.push(`${name}: a value with spaces or symbols may not also hold ' or \\`);
  }
  return problems;
}

/** The file's text for `vars` (validated first: throws ESERVICEENVINVALID listing every problem). */
export function formatServiceEnv(
  vars: Record<string, string>,
  source = 'the service variables',
  writtenBy = 'FleetHostOps.writeServiceEnv',
): string {
  const problems = validateServiceEnvVars(vars);
  if (problems.length) throw createError('ESERVICEENVINVALID', { file: source, problems });
  const lines = Object.entries(vars).map(([name, value]) =>
    BARE_VALUE.test(value) ? `${name}=${value}` : `${name}='${value}'`,
  );
  return `# Written by dhash (${writtenBy}); mode 0600.\n${lines.join('\n')}\n`;
}

/** Parses the text; comments and blank lines are skipped; a malformed line throws ESERVICEENVINVALID by number. */
export function parseServiceEnv(text: string, file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) return problems.push(`line ${i + 1} is not NAME=value`);
    const value = match[2];
    const quoted = /^'(.*)'$/.exec(value) ?? /^"(.*)"$/.exec(value);
    vars[match[1]] = quoted ? quoted[1] : value;
  });
  if (problems.length) throw createError('ESERVICEENVINVALID', { file, problems });
  return vars;
}

export interface ServiceEnv {
  file: string;
  isPresent: boolean;
  /** Octal, e.g. `0600`. */
  mode?: string;
  vars: Record<string, string>;
}

/**
 * Reads the file if it exists (absent: no variables). A file any other user could read or write is refused with
 * ESERVICEENVMODE (exit 3) before anything changes: it holds the database password and the API tokens.
 */
export async function readServiceEnv(environment: ResolvedEnvironment): Promise<ServiceEnv> {
  const file = getServiceEnvFile(environment);
  const info = await stat(file).catch(() => undefined);
  if (!info) return { file, isPresent: false, vars: {} };
  const mode = `0${(info.mode & 0o777).toString(8)}`;
  if ((info.mode & 0o077) !== 0) throw createError('ESERVICEENVMODE', { file, mode });
  return { file, isPresent: true, mode, vars: parseServiceEnv(await readFile(file, 'utf8'), file) };
}
