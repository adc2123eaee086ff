// Is the monitor of a deploy inside its window alive and watching what serves? A pure judgement plus one cheap reader.
import { readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { formatDurationMs } from '../core/duration.js';
import { isPidAlive } from '../state/lock.js';
import { readMonitorLockHolder } from './monitor-lock.js';
import { readMonitorState, type MonitorStateFile } from './monitor-state.js';

/** The monitor beats with every poll and at least this often while it sleeps between long polls (120 s cadence). */
export const HEARTBEAT_EVERY_MS = 30_000;
/**
 * Slack on top of the expected gap before a live pid is judged silent: one poll's measurements (5 s timeout per
 * request) plus its notifications (retried with backoff) must fit, or a slow Slack would read as a dead monitor.
 */
export const HEARTBEAT_MARGIN_MS = 30_000;

export type MonitorHealthStatus = 'none' | 'finished' | 'window-over' | 'beating' | 'not-beating';

export interface MonitorHealth {
  status: MonitorHealthStatus;
  deployId?: string;
  releaseId?: string;
  servingReleaseId?: string;
  /** False when the monitor of an unfinished window watches a release that is not the one serving. */
  isWatchingServing?: boolean;
  pid?: number;
  lastBeatAt?: string;
  windowEndsAt?: string;
  /** Why it is judged not beating (pid gone, no lock, silent for too long). */
  reason?: string;
  /** Plain sentences every command on the environment prints (empty when all is well). */
  warnings: string[];
}

export interface MonitorHealthInput {
  state:
    | Pick<
        MonitorStateFile,
        | 'env'
        | 'deployId'
        | 'releaseId'
        | 'windowStartMs'
        | 'windowMs'
        | 'outcome'
        | 'rollback'
        | 'pid'
        | 'heartbeatAt'
        | 'heartbeatIntervalMs'
        | 'lastPollAt'
        | 'firstStartedAt'
      >
    | undefined;
  /** The pid in monitor.lock, if the lock file exists. */
  lockPid?: number;
  isLockPidAlive: boolean;
  servingReleaseId?: string;
  nowMs: number;
}

/** The newest moment the monitor is known to have been alive. */
function getLastBeatMs(state: NonNullable<MonitorHealthInput['state']>): number {
  return Date.parse(state.heartbeatAt ?? state.lastPollAt ?? state.firstStartedAt);
}

/**
 * Stale when older than the expected gap (≤ HEARTBEAT_EVERY_MS) plus HEARTBEAT_MARGIN_MS; the boundary itself is
 * still alive.
 */
export function isHeartbeatStale(lastBeatMs: number, intervalMs: number | undefined, nowMs: number): boolean {
  return nowMs - lastBeatMs > Math.min(intervalMs ?? HEARTBEAT_EVERY_MS, HEARTBEAT_EVERY_MS) + HEARTBEAT_MARGIN_MS;
}

/** Pure: the monitor's health from its state, its lock holder and the release serving. */
export function judgeMonitorHealth(input: MonitorHealthInput): MonitorHealth {
  const { state, nowMs } = input;
  if (!state) return { status: 'none', warnings: [] };
  const windowEndMs = state.windowStartMs + state.windowMs;
  const base = {
    deployId: state.deployId,
    releaseId: state.releaseId,
    servingReleaseId: input.servingReleaseId,
    lastBeatAt: new Date(getLastBeatMs(state)).toISOString(),
    windowEndsAt: new Date(windowEndMs).toISOString(),
    ...(state.pid ? { pid: state.pid } : {}),
  };
  if (state.outcome) return { ...base, status: 'finished', warnings: [] };
  if (nowMs >= windowEndMs) return { ...base, status: 'window-over', warnings: [] };
  const isRollingBack = state.rollback?.status === 'started';
  // A rollback switches `current` on purpose; only an idle monitor watching another release is a problem.
  const isWatchingServing = isRollingBack || input.servingReleaseId === state.releaseId;
  const warnings: string[] = [];
  if (!isWatchingServing) {
    warnings.push(
      `the monitor of ${state.env} watches deploy ${state.deployId} (release ${state.releaseId}), ` +
        `but ${input.servingReleaseId ?? 'nothing'} is serving: it will not act on that release.`,
    );
  }
  const reason = getNotBeatingReason(state, input);
  if (reason) {
    warnings.unshift(
      `the monitor of ${state.env} (deploy ${state.deployId}, release ${state.releaseId}) ` +
        `has stopped beating since ${base.lastBeatAt}: ${reason}. ` +
        `The rest of its window, until ${base.windowEndsAt}, is unguarded. ` +
        `Resume it: node scripts/monitor_dhash.js --env ${state.env} --deploy ${state.deployId} --resume`,
    );
    return { ...base, status: 'not-beating', isWatchingServing, reason, warnings };
  }
  return { ...base, status: 'beating', isWatchingServing, warnings };
}

function getNotBeatingReason(
  state: NonNullable<MonitorHealthInput['state']>,
  input: MonitorHealthInput,
): string | undefined {
  if (input.lockPid === undefined) return `no monitor holds its lock${state.pid ? ` (pid ${state.pid} is gone)` : ''}`;
  if (!input.isLockPidAlive) return `its process (pid ${input.lockPid}) is gone`;
  if (state.pid !== undefined && state.pid !== input.lockPid)
    return `the lock is held by pid ${input.lockPid}, not by its monitor (pid ${state.pid})`;
  // A rollback (restore, health checks) can outlast any heartbeat gap; a live pid in the middle of one is alive.
  if (state.rollback?.status === 'started') return undefined;
  const lastBeatMs = getLastBeatMs(state);
  if (isHeartbeatStale(lastBeatMs, state.heartbeatIntervalMs, input.nowMs)) {
    const beatEveryMs = Math.min(state.heartbeatIntervalMs ?? HEARTBEAT_EVERY_MS, HEARTBEAT_EVERY_MS);
    return (
      `pid ${input.lockPid} is alive but silent for ${formatDurationMs(input.nowMs - lastBeatMs)} ` +
      `(it beats every ${formatDurationMs(beatEveryMs)})`
    );
  }
  return undefined;
}

/**
 * Whether `pid` is a running process: alive to kill(0) and not a zombie. A detached monitor whose parent exited is
 * reaped by PID 1, which in a container may never reap it; a zombie still answers kill(0).
 */
export function isProcessRunning(pid: number): boolean {
  if (!isPidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Reads the state, the lock and `current` (three small reads) and judges them; never throws. */
export async function getMonitorHealth(environment: ResolvedEnvironment, nowMs: number): Promise<MonitorHealth> {
  const [state, holder, serving] = await Promise.all([
    readMonitorState(environment),
    readMonitorLockHolder(environment),
    readlink(environment.currentLink).then(
      (t) => basename(t),
      () => undefined,
    ),
  ]);
  return judgeMonitorHealth({
    state,
    lockPid: holder?.pid,
    isLockPidAlive: holder ? isProcessRunning(holder.pid) : false,
    servingReleaseId: serving,
    nowMs,
  });
}
