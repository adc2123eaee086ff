// The target driver interface every driver implements, and the service command line they all run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';

export interface TargetStatus {
  isRunning: boolean;
  pid?: number;
  /** The release the running service was started from, when the driver knows it. */
  releaseId?: string;
  startedAt?: string;
  detail: string;
}

export interface TargetDriver {
  readonly type: string;
  /**
   * Starts the service from `<root>/current`; idempotent (a running service is left alone). Throws ETARGETFAILED when
   * it cannot.
   */
  start(): Promise<TargetStatus>;
  /**
   * Stops the service and waits until it is gone (escalating after the configured timeout); idempotent, stopping
   * nothing is fine.
   */
  stop(): Promise<void>;
  /** Stop then start, so the service runs whatever `current` now points at. */
  restart(): Promise<TargetStatus>;
  /** What is running now; never throws for a stopped service. */
  status(): Promise<TargetStatus>;
  /** Preflight: whether the driver can work here (binaries present, folders writable); never changes anything. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface TargetDriverOptions {
  clock: Clock;
  logger: Logger;
  /** Environment variables the service process inherits (the CLI context's env). */
  processEnv?: Record<string, string | undefined>;
}

/**
 * The service command line every driver runs: `node <root>/current/dist/cli/main.js serve --host H --port P --db <db>`.
 * A PostgreSQL environment passes no --db (the service reads DHASH_DATABASE_URL and refuses both at once), and names
 * shared/service.json with --config, which the service would otherwise look for beside the SQLite file.
 */
export function getServeArgs(environment: ResolvedEnvironment): string[] {
  const args = [`${environment.currentLink}/dist/cli/main.js`, 'serve', '--host', environment.host];
  args.push('--port', String(environment.port));
  if (environment.database.engine === 'sqlite') return [...args, '--db', environment.databaseFile];
  const serviceJson = join(environment.sharedDir, 'service.json');
  return existsSync(serviceJson) ? [...args, '--config', serviceJson] : args;
}

/** The variable the service reads its PostgreSQL URL from (src/service/store/postgres/pg-connection.ts). */
const SERVICE_DATABASE_URL_ENV = 'DHASH_DATABASE_URL';

/**
 * The service's environment: the caller's, with DHASH_DATABASE_URL set from the environment's `database.urlEnv`
 * (PostgreSQL), or removed (SQLite), so a URL exported in the operator's shell for another environment never sends
 * this one's service to that database.
 */
export function getServiceProcessEnv(
  environment: ResolvedEnvironment,
  processEnv: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...processEnv, DHASH_ENV: environment.name };
  delete env[SERVICE_DATABASE_URL_ENV];
  if (environment.database.engine === 'postgres' && environment.database.url)
    env[SERVICE_DATABASE_URL_ENV] = environment.database.url;
  return env;
}
