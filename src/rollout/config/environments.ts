// Loads environments.json (or the embedded default) and resolves one environment into absolute paths and URLs.
import { isAbsolute, join, relative } from 'node:path';
import { existsSync } from 'node:fs';
import { environmentsFileSchema, type EnvironmentConfig, type EnvironmentsFile } from './environments-schema.js';
import { readJsonFile, validateConfig } from './load-json-config.js';
import { createError } from '../../lib/errors.js';
import { getProjectPaths, type ProjectPaths } from '../../lib/project-paths.js';
import { formatHostPort } from '../../lib/host-port.js';

/** The embedded `local` environment, used when environments.json has no `local` entry (or no file exists). */
export const EMBEDDED_LOCAL: EnvironmentConfig = environmentsFileSchema.parse({
  environments: {
    local: {
      description: 'Everything under .dhash/local/ on this host; short monitor window so the demo finishes.',
      root: '.dhash/local',
      service: { host: '127.0.0.1', port: 8787, portEnv: 'DHASH_PORT' },
      deploy: { minFreeDiskMb: 100, healthyChecksRequired: 3, healthCheckIntervalMs: 500, healthTimeoutMs: 30_000 },
    },
  },
}).environments.local;

export interface ResolvedEnvironment {
  name: string;
  config: EnvironmentConfig;
  paths: ProjectPaths;
  /** Absolute environment root and its well-known folders. */
  root: string;
  releasesDir: string;
  currentLink: string;
  sharedDir: string;
  stateDir: string;
  logsDir: string;
  /** The service database inside shared/ (SQLite; unused when `database.engine` is `postgres`). */
  databaseFile: string;
  /** The store: SQLite at databaseFile, or PostgreSQL at a URL read from `urlEnv` (a secret: redacted everywhere). */
  database: ResolvedDatabase;
  backupsDir: string;
  host: string;
  port: number;
  baseUrl: string;
  healthUrl: string;
  metricsUrl: string;
  /**
   * The rollout's own API token for the service (DHASH_ROLLOUT_TOKEN), sent as `Authorization: Bearer` by smoke tests
   * and signal sources. Its variable name makes the redactor scrub it from every output.
   */
  serviceToken?: string;
}

export type ResolvedDatabase =
  | { engine: 'sqlite'; file: string }
  /** `url` is undefined when `urlEnv` is not set; whoever needs the database throws EDATABASEURLMISSING then. */
  | { engine: 'postgres'; urlEnv: string; url?: string };

export async function loadEnvironmentsFile(projectRoot: string): Promise<EnvironmentsFile> {
  const { environmentsFile } = getProjectPaths(projectRoot);
  if (!existsSync(environmentsFile)) return { environments: { local: EMBEDDED_LOCAL } };
  const raw = await readJsonFile(environmentsFile, projectRoot);
  const parsed = validateConfig(environmentsFileSchema, raw, relative(projectRoot, environmentsFile));
  if (!parsed.environments.local) parsed.environments.local = EMBEDDED_LOCAL;
  return parsed;
}

/**
 * Resolves `name`; unknown names throw EUNKNOWNENV listing the known ones; a bad port override throws EINVALIDOPTION.
 */
export async function resolveEnvironment(
  projectRoot: string,
  name: string,
  processEnv: Record<string, string | undefined>,
): Promise<ResolvedEnvironment> {
  const file = await loadEnvironmentsFile(projectRoot);
  const config = file.environments[name];
  if (!config) throw createError('EUNKNOWNENV', { env: name, known: Object.keys(file.environments).sort() });
  return resolveEnvironmentConfig(projectRoot, name, config, processEnv);
}

export function resolveEnvironmentConfig(
  projectRoot: string,
  name: string,
  config: EnvironmentConfig,
  processEnv: Record<string, string | undefined>,
): ResolvedEnvironment {
  const paths = getProjectPaths(projectRoot);
  const abs = (p: string) => (isAbsolute(p) ? p : join(projectRoot, p));
  let port = config.service.port;
  const override = config.service.portEnv ? processEnv[config.service.portEnv] : undefined;
  if (override !== undefined && override !== '') {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw createError('EINVALIDOPTION', {
        option: config.service.portEnv!,
        expected: 'a port number from 1 to 65535',
        actual: override,
      });
    }
    port = n;
  }
  const host = config.service.host;
  const baseUrl = (config.service.baseUrl ?? `http://${formatHostPort(host, port)}`).replace(/\/$/, '');
  const root = abs(config.root);
  const databaseFile = join(root, 'shared', 'dhash.sqlite');
  return {
    name,
    config,
    paths,
    root,
    releasesDir: join(root, 'releases'),
    currentLink: join(root, 'current'),
    sharedDir: join(root, 'shared'),
    stateDir: join(root, 'state'),
    logsDir: join(root, 'logs'),
    databaseFile,
    database:
      config.database.engine === 'postgres'
        ? {
            engine: 'postgres',
            urlEnv: config.database.urlEnv,
            ...(processEnv[config.database.urlEnv] ? { url: processEnv[config.database.urlEnv] } : {}),
          }
        : { engine: 'sqlite', file: databaseFile },
    backupsDir: abs(config.backups.dir),
    host,
    port,
    baseUrl,
    healthUrl: `${baseUrl}/health`,
    metricsUrl: `${baseUrl}/metrics`,
    ...(processEnv.DHASH_ROLLOUT_TOKEN ? { serviceToken: processEnv.DHASH_ROLLOUT_TOKEN } : {}),
  };
}
