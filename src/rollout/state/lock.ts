// The per-environment deploy lock: one deploy or rollback at a time, created with O_EXCL, stale locks reported and
// cleared.
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { ResolvedEnvironment } from '../config/environments.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  purpose: string;
}

export interface EnvironmentLock {
  file: string;
  info: LockInfo;
  /** Removes the lock if it is still ours; idempotent, never throws. */
  release(): Promise<void>;
}

export function getLockFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'deploy.lock');
}

export async function readLock(environment: ResolvedEnvironment): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(getLockFile(environment), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process on this host (EPERM means alive but not ours to signal). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeLockHolder(info: LockInfo | undefined): string {
  if (!info) return 'holder unknown: the lock file is unreadable';
  return `${info.purpose} by pid ${info.pid} on ${info.host}, started ${info.startedAt}`;
}

/**
 * Whether a lock can be cleared: held by a process of this host that no longer exists. Other hosts' locks are never
 * guessed at.
 */
export function isLockStale(info: LockInfo | undefined): boolean {
  return Boolean(info && info.host === hostname() && !isPidAlive(info.pid));
}

/**
 * Takes `<root>/state/deploy.lock` (O_EXCL, so two processes can never both win). A lock left by a dead
 * process on this host is reported through the logger and cleared; a live one throws ELOCKED (exit 3) naming the
 * holder.
 */
export async function acquireEnvironmentLock(
  environment: ResolvedEnvironment,
  options: { purpose: string; clock: Clock; logger?: Logger; pid?: number },
): Promise<EnvironmentLock> {
  const file = getLockFile(environment);
  await mkdir(environment.stateDir, { recursive: true });
  const info: LockInfo = {
    pid: options.pid ?? process.pid,
    host: hostname(),
    startedAt: new Date(options.clock.now()).toISOString(),
    purpose: options.purpose,
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify(info) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        file,
        info,
        release: async () => {
          const now = await readLock(environment);
          if (now && now.pid === info.pid && now.startedAt === info.startedAt) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readLock(environment);
      if (attempt === 0 && isLockStale(holder)) {
        options.logger?.warn(`cleared a stale deploy lock: ${describeLockHolder(holder)} (that process is gone)`, {
          step: 'deploy:lock',
          lockFile: file,
          stale: holder,
        });
        await rm(file, { force: true });
        continue;
      }
      throw createError('ELOCKED', { env: environment.name, lockFile: file, holder: describeLockHolder(holder) });
    }
  }
  throw createError('ELOCKED', {
    env: environment.name,
    lockFile: file,
    holder: describeLockHolder(await readLock(environment)),
  });
}
