// The target driver interface every driver implements, and the service command line they all run.
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
 */
export function getServeArgs(environment: ResolvedEnvironment): string[] {
  return [
    `${environment.currentLink}/dist/cli/main.js`,
    'serve',
    '--host',
    environment.host,
    '--port',
    String(environment.port),
    '--db',
    environment.databaseFile,
  ];
}
