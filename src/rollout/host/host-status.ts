// `dhash host status`: what a fleet host has and runs: current, previous, releases, service, lock, journal, health.
import { hostname } from 'node:os';
import { stat } from 'node:fs/promises';
import type { Clock } from '../../lib/clock.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { checkHealthOnce } from '../checks/health.js';
import { getCurrentReleaseId, listReleaseIds } from '../release/release-dirs.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';
import { readJournal } from '../state/journal.js';
import { isLockStale, readLock } from '../state/lock.js';
import type { TargetDriver } from '../target/index.js';
import type { HostStatusReport } from './host-report.js';
import { getPreviousReleaseId, readReleaseHistory } from './release-history.js';
import { getServiceEnvFile } from './service-env.js';

/** Read-only; never throws for a host that has nothing yet (no releases, no journal, no service). */
export async function getHostStatus(
  environment: ResolvedEnvironment,
  options: { driver: TargetDriver; clock: Clock; journalLines: number; shouldProbe: boolean },
): Promise<HostStatusReport> {
  const [current, releaseIds, history, lock, journal, service] = await Promise.all([
    getCurrentReleaseId(environment),
    listReleaseIds(environment),
    readReleaseHistory(environment),
    readLock(environment),
    readJournal(environment),
    options.driver.status().catch((error: Error) => ({ isRunning: false, detail: `unknown: ${error.message}` })),
  ]);
  const previous = getPreviousReleaseId(history, current, releaseIds);
  const envInfo = await stat(getServiceEnvFile(environment)).catch(() => undefined);
  const probe = options.shouldProbe
    ? await checkHealthOnce(environment.healthUrl, options.clock, 3000, getServiceAuthHeaders(environment))
    : undefined;
  return {
    root: environment.root,
    hostname: hostname(),
    ...(current ? { currentReleaseId: current } : {}),
    ...(previous ? { previousReleaseId: previous } : {}),
    releaseIds,
    service: { driver: options.driver.type, ...service },
    ...(lock ? { lock: { ...lock, isStale: isLockStale(lock) } } : {}),
    journal: journal.slice(-options.journalLines),
    ...(probe
      ? {
          health: {
            url: environment.healthUrl,
            ok: probe.ok,
            ...(probe.status !== undefined ? { status: probe.status } : {}),
            ...(probe.error ? { error: probe.error } : {}),
          },
        }
      : {}),
    serviceEnv: envInfo ? { isPresent: true, mode: `0${(envInfo.mode & 0o777).toString(8)}` } : { isPresent: false },
  };
}
