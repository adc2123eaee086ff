// The monitor's persisted state (<root>/state/monitor-state.json), rewritten atomically after every poll so a restart
// resumes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { GateLevel, MonitorState, RollbackStatus } from '../core/gate-assessment.js';
import type { GateResult, GateVerdict } from '../core/gates.js';
import { createSignalHistory, type SignalHistory } from '../core/signal-history.js';
import { writeJsonAtomic } from '../../lib/atomic-file.js';

export type MonitorOutcome =
  'all-clear' | 'rolled-back' | 'rollback-blocked' | 'window-over' | 'aborted' | 'superseded';

export interface GateStats {
  threshold: number;
  unit: string;
  worstValue: number | null;
  worstRatio: number | null;
  verdictCounts: Partial<Record<GateVerdict, number>>;
}

export interface RollbackRecord {
  status: RollbackStatus;
  startedAt: string;
  finishedAt?: string;
  ok?: boolean;
  backupFile?: string;
  incidentId?: string;
  thirdOkHealthAt?: string;
  reason?: string;
}

export interface MonitorStateFile {
  version: 1;
  env: string;
  deployId: string;
  releaseId: string;
  windowStartMs: number;
  windowMs: number;
  isFromNow: boolean;
  isDryRun: boolean;
  firstStartedAt: string;
  /** Polls done so far; the next poll's index. */
  pollIndex: number;
  /** The scheduled offset (from the window start) of the last poll done. */
  lastPollOffsetMs?: number;
  lastPollAt?: string;
  nextPollAt?: string;
  history: SignalHistory;
  gateLevels: Record<string, GateLevel>;
  state: MonitorState;
  latestGates: GateResult[];
  gateStats: Record<string, GateStats>;
  violation?: { gate: string; value: number; threshold: number; at: string };
  /** Written as `started` BEFORE the rollback begins, so a restarted monitor never starts a second one. */
  rollback?: RollbackRecord;
  outcome?: MonitorOutcome;
  endedAt?: string;
  /** With outcome `superseded`: the deploy or rollback that took over (issue 9), or the reason when none is known. */
  supersededBy?: string;
  supersedeReason?: string;
  /** The monitor's pid and its last sign of life: written with every poll and every ≤30 s while it sleeps. */
  pid?: number;
  heartbeatAt?: string;
  /** The longest gap expected between two heartbeats right now (the sleep chunk or poll interval). */
  heartbeatIntervalMs?: number;
}

export function getMonitorStateFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'monitor-state.json');
}

/** What a monitor knows when it starts: these fields are copied into the state as they are. */
type MonitorStateInit = Pick<
  MonitorStateFile,
  'env' | 'deployId' | 'releaseId' | 'windowStartMs' | 'windowMs' | 'isFromNow' | 'isDryRun'
> & { nowMs: number };

export function createMonitorState(init: MonitorStateInit): MonitorStateFile {
  const { nowMs, ...rest } = init;
  return {
    version: 1,
    ...rest,
    firstStartedAt: new Date(nowMs).toISOString(),
    pollIndex: 0,
    history: createSignalHistory(),
    gateLevels: {},
    state: 'ok',
    latestGates: [],
    gateStats: {},
  };
}

/**
 * The saved state, or undefined when there is none or it is unreadable (a torn file cannot exist: writes are atomic).
 */
export async function readMonitorState(environment: ResolvedEnvironment): Promise<MonitorStateFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(getMonitorStateFile(environment), 'utf8')) as MonitorStateFile;
    return parsed.version === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function saveMonitorState(environment: ResolvedEnvironment, state: MonitorStateFile): Promise<void> {
  await writeJsonAtomic(getMonitorStateFile(environment), state);
}

/** Folds one poll's gate results into the per-gate worst values and verdict counts (pure). */
export function updateGateStats(stats: Record<string, GateStats>, gates: GateResult[]): Record<string, GateStats> {
  const next: Record<string, GateStats> = { ...stats };
  for (const g of gates) {
    const prev = next[g.name] ?? {
      threshold: g.threshold,
      unit: g.unit,
      worstValue: null,
      worstRatio: null,
      verdictCounts: {},
    };
    const ratio = g.value === null || g.threshold === 0 ? null : g.value / g.threshold;
    const isWorse = g.value !== null && (prev.worstValue === null || g.value > prev.worstValue);
    next[g.name] = {
      threshold: g.threshold,
      unit: g.unit,
      worstValue: isWorse ? g.value : prev.worstValue,
      worstRatio: ratio !== null && (prev.worstRatio === null || ratio > prev.worstRatio) ? ratio : prev.worstRatio,
      verdictCounts: { ...prev.verdictCounts, [g.verdict]: (prev.verdictCounts[g.verdict] ?? 0) + 1 },
    };
  }
  return next;
}
