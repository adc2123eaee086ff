// The T+60 monitor of a fleet rollout: after the last wave, the fleet's gates polled on the monitor's cadence for its
// window (quality-gates-config.json); a violation rolls the whole fleet back, as a violation during a bake does.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDurationMs } from '../core/duration.js';
import { getResumeOffsetMs } from '../core/poll-schedule.js';
import { EXIT_BY_OUTCOME } from '../monitor/monitor-run.js';
import type { MonitorOutcome } from '../monitor/monitor-state.js';
import { readSupersedeRequest } from '../monitor/supersede-monitor.js';
import { appendJournal } from '../state/journal.js';
import {
  appendBakePoll,
  createBakeHistory,
  evaluateFleetGates,
  getGateLabel,
  type FleetGateResult,
} from './fleet-gates.js';
import { getActiveHostNames, getHostConfig, saveRunState, type FleetRun } from './fleet-run.js';
import { readFleetState } from './fleet-state.js';
import { judgeFleetPoll } from './judge-fleet-poll.js';

export type FleetWatchOutcome = Extract<
  MonitorOutcome,
  'all-clear' | 'rolled-back' | 'rollback-blocked' | 'aborted' | 'superseded'
>;

/** What the watch asks the rollout to do when a gate is violated: roll back and report (roll-out-fleet.ts). */
export type FleetViolationHandler = (failure: {
  reason: string;
  violations: FleetGateResult[];
}) => Promise<{ isRolledBack: boolean; message: string }>;

export interface FleetWatchResult {
  outcome: FleetWatchOutcome;
  exitCode: number;
  message: string;
  polls: number;
}

/**
 * Polls until the window ends, a gate is violated (then `onViolation`), or the rollout is interrupted or
 * superseded.
 */
export async function watchFleet(run: FleetRun, onViolation: FleetViolationHandler): Promise<FleetWatchResult> {
  const { clock, state } = run;
  const { windowMs, poll } = run.gates.monitor;
  const startMs = clock.now();
  const logFile = join(run.environment.paths.monitorLogsDir, `fleet-${state.deployId}.jsonl`);
  state.monitor = {
    startedAt: new Date(startMs).toISOString(),
    windowEndsAt: new Date(startMs + windowMs).toISOString(),
    polls: 0,
    logFile,
  };
  await saveRunState(run);
  await journal(run, 'started', `watching ${getActiveHostNames(run).join(', ')} for ${formatDurationMs(windowMs)}`);
  await run.o.notifier
    ?.send({
      event: 'monitor-start',
      deployId: state.deployId,
      release: state.releaseId,
      durationMs: windowMs,
      message: `Monitoring the fleet ${run.environment.name} (${state.releaseId}) for ${formatDurationMs(windowMs)}.`,
    })
    .catch((error: unknown) => run.logger.warn('notification failed', { error }));
  run.say(`Monitoring the fleet until ${state.monitor.windowEndsAt} (${formatDurationMs(windowMs)}).`);
  let history = createBakeHistory();
  let lastOffsetMs: number | undefined;
  for (;;) {
    const offsetMs = getResumeOffsetMs(poll, windowMs, lastOffsetMs, clock.now() - startMs);
    if (offsetMs === undefined) break;
    try {
      await clock.sleep(startMs + offsetMs - clock.now(), run.o.signal);
    } catch {
      return finishWatch(run, await getInterruptOutcome(run));
    }
    if ((await readFleetState(run.environment))?.deployId !== state.deployId)
      return finishWatch(run, { outcome: 'superseded', message: 'another rollout of the fleet took over' });
    const values = await run.signals.measure({
      hosts: getActiveHostNames(run).map((name) => getHostConfig(run, name)),
      windows: {
        extractionMs: run.gates.gates.extractionFailureRate.windowMs,
        p95Ms: run.gates.gates.p95HashTime.windowMs,
      },
      timeoutMs: 5000,
    });
    history = appendBakePoll(history, values);
    // Never final: an unreadable gate during the window is logged (a warning), never a reason to roll back alone.
    const decision = await judgeFleetPoll(run, evaluateFleetGates(run.gates.gates, history, values), {
      isFinal: false,
      during: 'the monitor window',
    });
    lastOffsetMs = offsetMs;
    await recordPoll(run, logFile, offsetMs, decision.results);
    if (decision.kind === 'violated') {
      const handled = await onViolation({ reason: decision.reason, violations: decision.violations });
      return finishWatch(run, {
        outcome: handled.isRolledBack ? 'rolled-back' : 'rollback-blocked',
        message: handled.message,
      });
    }
  }
  await run.o.notifier
    ?.send({
      event: 'monitor-complete',
      deployId: state.deployId,
      release: state.releaseId,
      durationMs: windowMs,
      message:
        `All clear: the fleet passed every gate for ${formatDurationMs(windowMs)} ` + `(${state.monitor.polls} polls).`,
    })
    .catch((error: unknown) => run.logger.warn('notification failed', { error }));
  return finishWatch(run, {
    outcome: 'all-clear',
    message: `the fleet passed every gate for ${formatDurationMs(windowMs)} (${state.monitor.polls} polls)`,
  });
}

/** A SIGTERM sent by a later rollout (its supersede request names this process) is `superseded`; else `aborted`. */
async function getInterruptOutcome(run: FleetRun): Promise<{ outcome: FleetWatchOutcome; message: string }> {
  const request = await readSupersedeRequest(run.environment);
  if (request?.pid === process.pid)
    return { outcome: 'superseded', message: `${request.byDeployId} took over ${run.environment.name}` };
  return {
    outcome: 'aborted',
    message: `interrupted after ${run.state.monitor?.polls ?? 0} poll(s): ${run.state.releaseId} serves unwatched`,
  };
}

async function recordPoll(run: FleetRun, logFile: string, offsetMs: number, results: FleetGateResult[]): Promise<void> {
  const monitor = run.state.monitor!;
  monitor.polls += 1;
  monitor.lastPollAt = new Date(run.clock.now()).toISOString();
  monitor.latestGates = results
    .filter((r) => r.action === 'rollback')
    .map((r) => `${getGateLabel(r)} ${r.value === null ? '-' : Math.round(r.value * 10) / 10} ${r.unit} ${r.verdict}`);
  const line = {
    time: monitor.lastPollAt,
    deployId: run.state.deployId,
    pollIndex: monitor.polls - 1,
    elapsedMs: offsetMs,
    gates: results,
  };
  await mkdir(run.environment.paths.monitorLogsDir, { recursive: true });
  await appendFile(logFile, JSON.stringify(line) + '\n').catch((error: unknown) =>
    run.logger.warn('could not write the fleet monitor log', { error }),
  );
  await saveRunState(run);
  run.logger.info(`fleet monitor poll ${monitor.polls}`, {
    step: 'monitor:evaluate',
    gates: monitor.latestGates.join(', '),
  });
}

async function finishWatch(
  run: FleetRun,
  end: { outcome: FleetWatchOutcome; message: string },
): Promise<FleetWatchResult> {
  const monitor = run.state.monitor!;
  monitor.outcome = end.outcome;
  monitor.endedAt = new Date(run.clock.now()).toISOString();
  await saveRunState(run);
  await journal(run, end.outcome === 'all-clear' ? 'succeeded' : 'failed', `${end.outcome}: ${end.message}`, {
    outcome: end.outcome,
  });
  return { ...end, exitCode: EXIT_BY_OUTCOME[end.outcome], polls: monitor.polls };
}

async function journal(
  run: FleetRun,
  status: 'started' | 'succeeded' | 'failed',
  detail: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await appendJournal(run.environment, {
    time: new Date(run.clock.now()).toISOString(),
    deployId: run.state.deployId,
    kind: 'monitor',
    step: status === 'started' ? 'monitor:start' : 'monitor:finish',
    status,
    releaseId: run.state.releaseId,
    detail,
    ...extra,
  }).catch((error: unknown) => run.logger.error('could not append to the deploy journal', { error }));
  run.say(
    `  ${status === 'failed' ? '✗' : '✓'} ${status === 'started' ? 'monitor:start' : 'monitor:finish'}  ${detail}`,
  );
}
