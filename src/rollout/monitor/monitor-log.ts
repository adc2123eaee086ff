// monitor_logs/<deployId>.jsonl (one line per poll) and <deployId>.summary.json, in the formats of
// docs/dev/CONTRACTS.md.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateResult } from '../core/gates.js';
import type { MonitorState } from '../core/gate-assessment.js';
import type { WindowedSignals } from '../core/signal-history.js';
import type { SignalValues } from '../core/signal-values.js';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { MonitorStateFile } from './monitor-state.js';

export interface PollRecord {
  time: string;
  deployId: string;
  env: string;
  releaseId: string;
  pollIndex: number;
  elapsedMs: number;
  signals: {
    health: { ok: boolean; httpStatus?: number; latencyMs: number; error?: string };
    extraction?: { attempts: number; failures: number };
    hashP95Ms?: number;
    queueLength?: number;
    cpuPercent?: number;
    memoryPercent?: number;
    diskPercent?: number;
    metricsError?: string;
    processRssBytes?: number;
  };
  gates: GateResult[];
  state: MonitorState;
  actions?: string[];
}

export function getMonitorLogFiles(monitorLogsDir: string, deployId: string): { jsonl: string; summary: string } {
  return {
    jsonl: join(monitorLogsDir, `${deployId}.jsonl`),
    summary: join(monitorLogsDir, `${deployId}.summary.json`),
  };
}

/** The poll's line: the signals as measured (window values taken from the gates that computed them) and every gate. */
export function buildPollRecord(input: {
  state: MonitorStateFile;
  atMs: number;
  values: SignalValues;
  gates: GateResult[];
  monitorState: MonitorState;
  actions: string[];
  windowed: WindowedSignals;
}): PollRecord {
  const { values, gates } = input;
  const m = values.metrics;
  const extraction = input.windowed.extraction;
  const p95 = input.windowed.p95?.p95Ms;
  const host = values.host ?? {};
  return {
    time: new Date(input.atMs).toISOString(),
    deployId: input.state.deployId,
    env: input.state.env,
    releaseId: input.state.releaseId,
    pollIndex: input.state.pollIndex,
    elapsedMs: input.atMs - input.state.windowStartMs,
    signals: {
      health: values.health,
      ...(extraction ? { extraction } : {}),
      ...(p95 !== undefined ? { hashP95Ms: p95 } : {}),
      ...(m ? { queueLength: m.queueLength } : {}),
      ...(host.cpuPercent !== undefined ? { cpuPercent: host.cpuPercent } : {}),
      ...(host.memoryPercent !== undefined ? { memoryPercent: host.memoryPercent } : {}),
      ...(host.diskPercent !== undefined ? { diskPercent: host.diskPercent } : {}),
      ...(host.processRssBytes !== undefined ? { processRssBytes: host.processRssBytes } : {}),
      ...(values.metricsError ? { metricsError: values.metricsError } : {}),
    },
    gates,
    state: input.monitorState,
    ...(input.actions.length ? { actions: input.actions } : {}),
  };
}

export async function appendPollRecord(monitorLogsDir: string, record: PollRecord): Promise<void> {
  await mkdir(monitorLogsDir, { recursive: true });
  await appendFile(getMonitorLogFiles(monitorLogsDir, record.deployId).jsonl, JSON.stringify(record) + '\n');
}

export function buildSummary(state: MonitorStateFile, endedAtMs: number) {
  return {
    deployId: state.deployId,
    env: state.env,
    releaseId: state.releaseId,
    startedAt: new Date(state.windowStartMs).toISOString(),
    endedAt: new Date(endedAtMs).toISOString(),
    windowMs: state.windowMs,
    outcome: state.outcome ?? 'aborted',
    polls: state.pollIndex,
    ...(state.isDryRun ? { dryRun: true } : {}),
    gates: state.gateStats,
    ...(state.violation ? { violation: state.violation } : {}),
    ...(state.supersededBy ? { supersededBy: state.supersededBy } : {}),
    ...(state.supersedeReason ? { supersedeReason: state.supersedeReason } : {}),
    ...(state.rollback
      ? {
          rollback: {
            startedAt: state.rollback.startedAt,
            ...(state.rollback.finishedAt ? { finishedAt: state.rollback.finishedAt } : {}),
            ok: state.rollback.ok ?? false,
            ...(state.rollback.backupFile ? { backupFile: state.rollback.backupFile } : {}),
            ...(state.rollback.incidentId ? { incidentId: state.rollback.incidentId } : {}),
            ...(state.rollback.thirdOkHealthAt ? { thirdOkHealthAt: state.rollback.thirdOkHealthAt } : {}),
          },
        }
      : {}),
  };
}

export async function writeSummary(
  monitorLogsDir: string,
  state: MonitorStateFile,
  endedAtMs: number,
): Promise<string> {
  const file = getMonitorLogFiles(monitorLogsDir, state.deployId).summary;
  await writeJsonAtomic(file, buildSummary(state, endedAtMs));
  return file;
}
