// What a systemd unit's service reads from <root>/shared/service.env: its database URL and its API token settings,
// never the rest of the deploying shell's environment (the unit's text and argv carry no secret).
import { createError } from '../../../lib/errors.js';
import { API_TOKENS_ENV, API_TOKENS_FILE_ENV, PROTECT_PROBES_ENV } from '../../../service/http/auth-config.js';
import { DATABASE_URL_ENV } from '../../../service/store/postgres/pg-url.js';
import type { ResolvedEnvironment } from '../../config/environments.js';
import { formatServiceEnv, readServiceEnv } from '../../host/service-env.js';
import { writeEnvironmentFile } from './environment-file.js';

/** The service's token settings, passed under their own names when this command has them. */
export const SERVICE_TOKEN_ENV = [API_TOKENS_ENV, API_TOKENS_FILE_ENV, PROTECT_PROBES_ENV] as const;

const WRITTEN_BY = 'the systemd target driver, before each start';

/**
 * Pure: the file's variables. DHASH_DATABASE_URL is the environment's `database.urlEnv` value (PostgreSQL) and is
 * never added for SQLite (serve refuses a URL beside --db). A variable set in this command's environment replaces
 * the file's (set to '' it is removed); one not set here keeps the file's value, so a rollback run from a shell
 * without DHASH_API_TOKENS never restarts a service bound beyond loopback without its tokens (it would refuse to
 * start). Lines an operator added by hand are kept. Throws EDATABASEURLMISSING when PostgreSQL has a URL neither
 * here nor in the file.
 */
export function getServiceEnvVars(
  environment: ResolvedEnvironment,
  processEnv: Record<string, string | undefined>,
  existing: Record<string, string>,
): Record<string, string> {
  const vars: Record<string, string> = {};
  const { database } = environment;
  if (database.engine === 'postgres') {
    const url = database.url ?? existing[DATABASE_URL_ENV];
    if (!url) throw createError('EDATABASEURLMISSING', { env: environment.name, variable: database.urlEnv });
    vars[DATABASE_URL_ENV] = url;
  }
  for (const name of SERVICE_TOKEN_ENV) {
    // Set to the empty string here: removed (how an operator drops tokens on purpose).
    const value = processEnv[name] ?? existing[name];
    if (value) vars[name] = value;
  }
  for (const [name, value] of Object.entries(existing)) {
    if (!(name in vars) && !(SERVICE_TOKEN_ENV as readonly string[]).includes(name)) vars[name] = value;
  }
  return vars;
}

/**
 * The variables the next start would write, validated: ESERVICEENVMODE (exit 3) when the file exists and others
 * could read it, EDATABASEURLMISSING, ESERVICEENVSQLITEURL, ESERVICEENVINVALID. Changes nothing (also the driver's
 * preflight check).
 */
export async function prepareServiceEnv(
  environment: ResolvedEnvironment,
  processEnv: Record<string, string | undefined>,
): Promise<{ file: string; vars: Record<string, string> }> {
  const existing = await readServiceEnv(environment);
  const vars = getServiceEnvVars(environment, processEnv, existing.vars);
  // Kept, not dropped: silently serving a local SQLite file instead of the database the line names could split data.
  if (environment.database.engine === 'sqlite' && vars[DATABASE_URL_ENV] !== undefined)
    throw createError('ESERVICEENVSQLITEURL', { file: existing.file, env: environment.name });
  formatServiceEnv(vars, existing.file, WRITTEN_BY);
  return { file: existing.file, vars };
}

/** Writes shared/service.env (0600, temp + rename) when it changed; returns the variables' names, never values. */
export async function writeServiceEnv(
  environment: ResolvedEnvironment,
  processEnv: Record<string, string | undefined>,
): Promise<{ file: string; names: string[]; isChanged: boolean }> {
  const { file, vars } = await prepareServiceEnv(environment, processEnv);
  const { isChanged } = await writeEnvironmentFile(file, vars, WRITTEN_BY);
  return { file, names: Object.keys(vars), isChanged };
}
