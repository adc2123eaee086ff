// Target drivers: how the service of an environment is started, stopped and inspected; one interface, one factory switch.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../../lib/logger.js';
import { createError } from '../core/errors.js';
import { createProcessDriver, PROCESS_TARGET_TYPE } from './process/process-driver.js';
import { createSystemdDriver, SYSTEMD_TARGET_TYPE } from './systemd/systemd-driver.js';
import { createCommandDriver, COMMAND_TARGET_TYPE } from './command/command-driver.js';

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
  /** Starts the service from `<root>/current`; idempotent (a running service is left alone). Throws ETARGETFAILED when it cannot. */
  start(): Promise<TargetStatus>;
  /** Stops the service and waits until it is gone (escalating after the configured timeout); idempotent, stopping nothing is fine. */
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
  env?: Record<string, string | undefined>;
}

export function createTargetDriver(environment: ResolvedEnvironment, options: TargetDriverOptions): TargetDriver {
  const target = environment.config.target;
  switch (target.type) {
    case PROCESS_TARGET_TYPE:
      return createProcessDriver(environment, target, options);
    case SYSTEMD_TARGET_TYPE:
      return createSystemdDriver(environment, target, options);
    case COMMAND_TARGET_TYPE:
      return createCommandDriver(environment, target, options);
    default:
      throw createError('EINVALIDCONFIG', {
        file: 'environments.json',
        problems: [{ path: `environments.${environment.name}.target.type`, message: `unknown target type \`${(target as { type: string }).type}\`; use process, systemd or command` }],
      });
  }
}

/** The service command line every driver runs: `node <root>/current/dist/cli/main.js serve --host H --port P --db <db>`. */
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
