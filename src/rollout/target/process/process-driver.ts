// The `process` target: the service as a detached node process with a pidfile and an appended log under the environment
// root.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { TargetConfig } from '../../config/environments-schema.js';
import { createError } from '../../../lib/errors.js';
import { writeJsonAtomic } from '../../../lib/atomic-file.js';
import { isPidAlive } from '../../state/lock.js';
import {
  getServeArgs,
  getServiceProcessEnv,
  type TargetDriver,
  type TargetDriverOptions,
  type TargetStatus,
} from '../target-driver.js';

export const PROCESS_TARGET_TYPE = 'process';

export interface ServicePidFile {
  pid: number;
  startedAt: string;
  releaseId: string;
  releaseDir: string;
}

export function getPidFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'service.pid');
}

export function getServiceLogFile(environment: ResolvedEnvironment): string {
  return join(environment.logsDir, 'service.log');
}

/** On Linux, a pid is ours only when its command line is a dhash `serve`; guards against a recycled pid. */
export function isOurServiceProcess(pid: number): boolean {
  if (!isPidAlive(pid)) return false;
  const cmdlineFile = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const args = readFileSync(cmdlineFile, 'utf8').split('\0');
    return args.some((a) => a.endsWith('dist/cli/main.js')) && args.includes('serve');
  } catch {
    return false;
  }
}

export function createProcessDriver(
  environment: ResolvedEnvironment,
  target: Extract<TargetConfig, { type: 'process' }>,
  options: TargetDriverOptions,
): TargetDriver {
  const pidFile = getPidFile(environment);
  const logFile = getServiceLogFile(environment);
  const { clock, logger } = options;

  const readPidFile = async (): Promise<ServicePidFile | undefined> => {
    try {
      return JSON.parse(await readFile(pidFile, 'utf8')) as ServicePidFile;
    } catch {
      return undefined;
    }
  };

  const waitUntilGone = async (pid: number, timeoutMs: number): Promise<boolean> => {
    const deadline = clock.now() + timeoutMs;
    while (clock.now() < deadline) {
      if (!isOurServiceProcess(pid)) return true;
      await clock.sleep(50);
    }
    return !isOurServiceProcess(pid);
  };

  const signal = (pid: number, name: NodeJS.Signals) => {
    // The service leads its own process group (detached), so the group gets the signal too.
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, name);
      } catch {}
    }
  };

  const driver: TargetDriver = {
    type: PROCESS_TARGET_TYPE,

    async status() {
      const info = await readPidFile();
      if (!info) return { isRunning: false, detail: 'not running (no pidfile)' };
      if (!isOurServiceProcess(info.pid))
        return {
          isRunning: false,
          pid: info.pid,
          releaseId: info.releaseId,
          detail: `not running (pid ${info.pid} from the pidfile is gone)`,
        };
      return {
        isRunning: true,
        pid: info.pid,
        releaseId: info.releaseId,
        startedAt: info.startedAt,
        detail: `running as pid ${info.pid} from ${info.releaseId}`,
      };
    },

    async start(): Promise<TargetStatus> {
      const now = await driver.status();
      if (now.isRunning) return now;
      let releaseDir: string;
      try {
        releaseDir = await realpath(environment.currentLink);
      } catch (error) {
        throw createError(
          'ETARGETFAILED',
          {
            target: PROCESS_TARGET_TYPE,
            action: 'start',
            reason: `${environment.currentLink} does not point at a release`,
          },
          error,
        );
      }
      await mkdir(environment.logsDir, { recursive: true });
      await mkdir(environment.stateDir, { recursive: true });
      await mkdir(environment.sharedDir, { recursive: true });
      const fd = openSync(logFile, 'a');
      let pid: number | undefined;
      try {
        const child = spawn(process.execPath, getServeArgs(environment), {
          cwd: releaseDir,
          detached: true,
          stdio: ['ignore', fd, fd],
          // Without an explicit env the service inherits the toolkit's own (spawn's default), plus its environment
          // name and its database URL (getServiceProcessEnv).
          env: getServiceProcessEnv(environment, options.processEnv ?? process.env),
        });
        pid = child.pid;
        child.on('error', () => {});
        child.unref();
      } finally {
        closeSync(fd);
      }
      if (!pid)
        throw createError('ETARGETFAILED', {
          target: PROCESS_TARGET_TYPE,
          action: 'start',
          reason: `spawning ${process.execPath} failed`,
        });
      const info: ServicePidFile = {
        pid,
        startedAt: new Date(clock.now()).toISOString(),
        releaseId: basename(releaseDir),
        releaseDir,
      };
      await writeJsonAtomic(pidFile, info);
      logger.info(`started the service as pid ${pid} from ${info.releaseId}`, {
        pid,
        releaseId: info.releaseId,
        logFile,
      });
      return {
        isRunning: true,
        pid,
        releaseId: info.releaseId,
        startedAt: info.startedAt,
        detail: `started as pid ${pid}`,
      };
    },

    async stop() {
      const info = await readPidFile();
      if (!info) return;
      if (isOurServiceProcess(info.pid)) {
        signal(info.pid, 'SIGTERM');
        if (!(await waitUntilGone(info.pid, target.stopTimeoutMs))) {
          logger.warn(`pid ${info.pid} ignored SIGTERM for ${target.stopTimeoutMs} ms; sending SIGKILL`, {
            pid: info.pid,
          });
          signal(info.pid, 'SIGKILL');
          if (!(await waitUntilGone(info.pid, 5_000))) {
            throw createError('ETARGETFAILED', {
              target: PROCESS_TARGET_TYPE,
              action: 'stop',
              reason: `pid ${info.pid} survived SIGKILL`,
            });
          }
        }
        logger.info(`stopped the service (pid ${info.pid})`, { pid: info.pid, releaseId: info.releaseId });
      }
      await rm(pidFile, { force: true });
    },

    async restart() {
      await driver.stop();
      return driver.start();
    },

    async check() {
      if (!existsSync(process.execPath)) return { ok: false, detail: `node is missing at ${process.execPath}` };
      const now = await driver.status();
      return { ok: true, detail: `process driver usable (node ${process.version}); ${now.detail}` };
    },
  };
  return driver;
}
