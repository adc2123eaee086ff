// A new deploy or rollback supersedes the monitor of the previous one before anything changes (issue 9): ask, wait,
// record.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import { appendJournal } from '../state/journal.js';
import type { Logger } from '../../lib/logger.js';
import { writeFileAtomic, writeJsonAtomic } from '../../lib/atomic-file.js';
import { renderMonitorReport } from '../report/render-monitor-report.js';
import { getMonitorLockFile, readMonitorLockHolder } from './monitor-lock.js';
import { getMonitorPromFile, renderMonitorProm } from './monitor-heartbeat.js';
import { writeSummary } from './monitor-log.js';
import { isProcessRunning } from './monitor-health.js';
import { readMonitorState, saveMonitorState } from './monitor-state.js';

/** Written before the SIGTERM: it tells the monitor (by pid) that the signal means "superseded", not Ctrl-C. */
export interface SupersedeRequest {
  pid: number;
  byDeployId: string;
  requestedAt: string;
}

export interface SupersedeResult {
  /**
   * `stopped`: a live monitor exited; `marked`: a dead monitor's unfinished state was closed; `self`: our own process.
   */
  status: 'none' | 'stopped' | 'marked' | 'self';
  deployId?: string;
  pid?: number;
}

export const SUPERSEDE_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export function getSupersedeRequestFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'monitor-supersede.json');
}

/** The pending request, or undefined when there is none or it is unreadable. */
export async function readSupersedeRequest(environment: ResolvedEnvironment): Promise<SupersedeRequest | undefined> {
  try {
    return JSON.parse(await readFile(getSupersedeRequestFile(environment), 'utf8')) as SupersedeRequest;
  } catch {
    return undefined;
  }
}

/** Removes the request if it still names `pid`; idempotent, never throws. */
export async function clearSupersedeRequest(environment: ResolvedEnvironment, pid: number): Promise<void> {
  if ((await readSupersedeRequest(environment))?.pid === pid)
    await rm(getSupersedeRequestFile(environment), { force: true }).catch(() => {});
}

/**
 * Stops the environment's monitor so it never acts on a release it does not watch. A live holder of monitor.lock is
 * sent SIGTERM (after the request file) and waited for until `timeoutMs`, then EMONITORNOTSUPERSEDED (exit 3, nothing
 * changed). A dead monitor's unfinished state is marked superseded. The monitor's own process (its auto-rollback) is
 * left alone.
 */
export async function supersedeMonitor(
  environment: ResolvedEnvironment,
  options: { byDeployId: string; clock: Clock; logger: Logger; timeoutMs?: number },
): Promise<SupersedeResult> {
  const { clock, logger, byDeployId } = options;
  const holder = await readMonitorLockHolder(environment);
  if (holder?.pid === process.pid) return { status: 'self', pid: holder.pid };
  if (holder && isProcessRunning(holder.pid)) {
    await stopLiveMonitor(environment, holder.pid, options);
    const after = await readMonitorState(environment);
    if (after?.outcome === 'superseded' && after.supersededBy === byDeployId) {
      logger.info(`superseded the monitor of ${after.deployId}`, {
        step: 'monitor:supersede',
        pid: holder.pid,
        byDeployId,
      });
      return { status: 'stopped', deployId: after.deployId, pid: holder.pid };
    }
    // It exited without recording (killed hard meanwhile): close its state below like a dead monitor's.
  }
  const marked = await markUnfinishedState(environment, {
    byDeployId,
    clock,
    reason: `its monitor was not running when ${byDeployId} began`,
  });
  if (marked)
    logger.info(`marked the unfinished monitor state of ${marked} superseded`, {
      step: 'monitor:supersede',
      byDeployId,
    });
  return marked ? { status: 'marked', deployId: marked } : { status: 'none' };
}

async function stopLiveMonitor(
  environment: ResolvedEnvironment,
  pid: number,
  options: { byDeployId: string; clock: Clock; timeoutMs?: number },
): Promise<void> {
  const { clock, byDeployId } = options;
  const timeoutMs = options.timeoutMs ?? SUPERSEDE_TIMEOUT_MS;
  const request: SupersedeRequest = { pid, byDeployId, requestedAt: new Date(clock.now()).toISOString() };
  await writeJsonAtomic(getSupersedeRequestFile(environment), request);
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  const deadlineMs = clock.now() + timeoutMs;
  try {
    // Gone means both: the process has exited and it no longer holds the lock (it releases it on its way out).
    for (;;) {
      const holder = await readMonitorLockHolder(environment);
      if (!isProcessRunning(pid) && holder?.pid !== pid) return;
      if (!isProcessRunning(pid) && holder?.pid === pid)
        return void (await rm(getMonitorLockFile(environment), { force: true }));
      if (clock.now() >= deadlineMs) {
        const state = await readMonitorState(environment);
        throw createError('EMONITORNOTSUPERSEDED', {
          env: environment.name,
          pid,
          deployId: state?.deployId ?? 'unknown',
          byDeployId,
          timeoutMs,
          lockFile: getMonitorLockFile(environment),
        });
      }
      await clock.sleep(POLL_MS);
    }
  } finally {
    await clearSupersedeRequest(environment, pid);
  }
}

/**
 * Closes a saved window nobody finished: outcome superseded in state, summary, report and journal. Returns its deploy
 * id.
 */
async function markUnfinishedState(
  environment: ResolvedEnvironment,
  input: { byDeployId: string; clock: Clock; reason: string },
): Promise<string | undefined> {
  const state = await readMonitorState(environment);
  if (!state || state.outcome || state.deployId === input.byDeployId) return undefined;
  const nowMs = input.clock.now();
  state.outcome = 'superseded';
  state.supersededBy = input.byDeployId;
  state.supersedeReason = input.reason;
  state.endedAt = new Date(nowMs).toISOString();
  await saveMonitorState(environment, state);
  // The dead-man's switch stops expecting beats from a window that is closed.
  await writeFileAtomic(
    getMonitorPromFile(environment),
    renderMonitorProm(state, Date.parse(state.heartbeatAt ?? state.lastPollAt ?? state.firstStartedAt)),
  );
  await writeSummary(environment.paths.monitorLogsDir, state, nowMs);
  await renderMonitorReport(environment.paths.root, state.deployId).catch(() => {});
  await appendJournal(environment, {
    time: state.endedAt,
    deployId: state.deployId,
    kind: 'monitor',
    step: 'monitor:finish',
    status: 'failed',
    outcome: 'superseded',
    supersededBy: input.byDeployId,
  });
  return state.deployId;
}
