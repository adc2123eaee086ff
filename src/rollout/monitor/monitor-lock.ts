// One monitor per environment: <root>/state/monitor.lock holds the pid; a dead holder's lock is cleared, a live one
// refuses (exit 3).
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';
import { isPidAlive } from '../state/lock.js';
import type { Logger } from '../../lib/logger.js';

export interface MonitorLock {
  file: string;
  /** Removes the lock if it is still ours; idempotent, never throws. */
  release(): Promise<void>;
}

export function getMonitorLockFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'monitor.lock');
}

/** Who holds monitor.lock, or undefined when nobody does (or the file is unreadable). */
export async function readMonitorLockHolder(
  environment: ResolvedEnvironment,
): Promise<{ pid: number; startedAt: string } | undefined> {
  return readHolder(getMonitorLockFile(environment));
}

async function readHolder(file: string): Promise<{ pid: number; startedAt: string } | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { pid: number; startedAt: string };
  } catch {
    return undefined;
  }
}

export async function acquireMonitorLock(
  environment: ResolvedEnvironment,
  options: { nowMs: number; pid?: number; logger?: Logger },
): Promise<MonitorLock> {
  const file = getMonitorLockFile(environment);
  const pid = options.pid ?? process.pid;
  const startedAt = new Date(options.nowMs).toISOString();
  await mkdir(environment.stateDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify({ pid, startedAt }) + '\n');
      } finally {
        await handle.close();
      }
      return {
        file,
        release: async () => {
          const holder = await readHolder(file);
          if (holder?.pid === pid && holder.startedAt === startedAt) await rm(file, { force: true }).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(file);
      // A monitor killed with SIGKILL leaves its lock behind; its pid is gone, so the lock is stale.
      if (attempt === 0 && (!holder || !isPidAlive(holder.pid))) {
        options.logger?.warn('cleared a stale monitor lock (its process is gone)', {
          step: 'monitor:lock',
          lockFile: file,
          stale: holder,
        });
        await rm(file, { force: true });
        continue;
      }
      throw createError('EMONITORLOCKED', {
        env: environment.name,
        lockFile: file,
        pid: holder?.pid ?? 0,
        startedAt: holder?.startedAt ?? 'unknown',
      });
    }
  }
  throw createError('EMONITORLOCKED', { env: environment.name, lockFile: file, pid: 0, startedAt: 'unknown' });
}
