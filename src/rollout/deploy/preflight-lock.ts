// The `preflight:lock` check every rollout makes (one host or a fleet): free, stale (cleared, a warning) or held
// (refused, exit 3, with what to do).
import type { ResolvedEnvironment } from '../config/environments.js';
import { describeLockHolder, getLockFile, isLockStale, readLock } from '../state/lock.js';
import type { PreflightCheck } from './preflight.js';

/** `freeDetail` is what a free lock reports: the kinds of run that take it here. */
export async function checkPreflightLock(
  environment: ResolvedEnvironment,
  freeDetail: string,
): Promise<PreflightCheck> {
  const lock = await readLock(environment);
  if (!lock) return { name: 'preflight:lock', ok: true, detail: freeDetail };
  if (isLockStale(lock))
    return {
      name: 'preflight:lock',
      ok: true,
      isWarning: true,
      detail: `stale lock (${describeLockHolder(lock)}; that process is gone) will be cleared`,
    };
  return {
    name: 'preflight:lock',
    ok: false,
    exitCode: 3,
    detail:
      `held: ${describeLockHolder(lock)}; ` +
      `wait for it, or if you are sure it is gone remove ${getLockFile(environment)}`,
  };
}
