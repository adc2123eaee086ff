// The T+60 monitor of one deploy: polls the signals on the configured cadence, judges the gates, persists state, and
// rolls back once.
import { loadQualityGates } from '../config/quality-gates.js';
import { formatDurationMs } from '../core/duration.js';
import {
  assessMonitorState,
  decideRollback,
  getGateTransitions,
  type GateTransition,
} from '../core/gate-assessment.js';
import type { GateResult } from '../core/gates.js';
import { getResumeOffsetMs } from '../core/poll-schedule.js';
import { appendPoll, evaluateGates, getWindowedSignals } from '../core/signal-history.js';
import { appendJournal } from '../state/journal.js';
import { createSignalSource } from '../signals/signal-source.js';
import { findRollbackBackup, performAutoRollback } from './auto-rollback.js';
import { HEARTBEAT_EVERY_MS } from './monitor-health.js';
import { recordHeartbeat } from './monitor-heartbeat.js';
import { acquireMonitorLock } from './monitor-lock.js';
import { appendPollRecord, buildPollRecord } from './monitor-log.js';
import { saveMonitorState, updateGateStats } from './monitor-state.js';
import { checkStartable, choosePollState } from './choose-poll-state.js';
import { findSupersede, finishInterrupted, finishMonitor, finishSuperseded } from './finish-monitor.js';
import {
  round,
  type Deliveries,
  type MonitorResult,
  type MonitorRun,
  type PollOutcome,
  type RunMonitorOptions,
} from './monitor-run.js';

export type { MonitorResult, RunMonitorOptions } from './monitor-run.js';
export { choosePollState } from './choose-poll-state.js';
export { finishMonitor } from './finish-monitor.js';

/** Runs the monitor of one deploy under monitor.lock; the lock is released whatever the outcome. */
export async function runMonitor(options: RunMonitorOptions): Promise<MonitorResult> {
  const { environment, clock, logger } = options;
  const gates = options.gates ?? (await loadQualityGates(environment.paths.root, environment.name));
  const lock = await acquireMonitorLock(environment, { nowMs: clock.now(), logger });
  try {
    const run = await choosePollState(options, gates);
    return (await checkStartable(run)) ?? (await watchWindow(run));
  } finally {
    await lock.release();
  }
}

/** The first heartbeat (quick-deploy waits for it), the journal entry and the `monitor-start` notification. */
async function announceStart(run: MonitorRun): Promise<void> {
  const { environment, state, o } = run;
  const nowMs = run.clock.now();
  await recordHeartbeat(environment, state, nowMs);
  await appendJournal(environment, {
    time: new Date(nowMs).toISOString(),
    deployId: state.deployId,
    kind: 'monitor',
    step: 'monitor:start',
    status: 'started',
    releaseId: state.releaseId,
  });
  await run.notifier.send({
    event: 'monitor-start',
    deployId: state.deployId,
    release: state.releaseId,
    durationMs: state.windowMs,
    message:
      `Monitoring ${environment.name} (${state.releaseId}) for ${formatDurationMs(state.windowMs)}` +
      `${state.pollIndex > 0 ? `, resumed at poll ${state.pollIndex}` : ''}` +
      `${o.isDryRun ? ' (dry run: no rollback)' : ''}.`,
  });
  run.say(
    `Monitoring ${state.deployId} (${state.releaseId}) ` +
      `until ${new Date(state.windowStartMs + state.windowMs).toISOString()}${o.isDryRun ? ' [dry run]' : ''}.`,
  );
}

/** Polls until the window ends, the monitor is interrupted or superseded, or a rollback gate fires. */
async function watchWindow(run: MonitorRun): Promise<MonitorResult> {
  const { state, gates } = run;
  await announceStart(run);
  for (;;) {
    const offsetMs = getResumeOffsetMs(
      gates.monitor.poll,
      state.windowMs,
      state.lastPollOffsetMs,
      run.clock.now() - state.windowStartMs,
    );
    if (offsetMs === undefined) break;
    state.nextPollAt = new Date(state.windowStartMs + offsetMs).toISOString();
    if (!(await sleepUntilPoll(run, state.windowStartMs + offsetMs))) return finishInterrupted(run);
    const poll = await runOnePoll(run, offsetMs);
    const deliveries = await notifyTransitions(run, poll.transitions);
    if (poll.supersede) return finishSuperseded(run, poll.supersede);
    if (poll.decision.shouldRollback && poll.decision.trigger)
      return rollBack(run, poll.decision.trigger, poll.atMs, deliveries);
  }
  return finishMonitor(
    run,
    state.violation && run.o.isDryRun ? 'window-over' : 'all-clear',
    state.violation && run.o.isDryRun
      ? `Dry run: the window of ${state.deployId} ended; ` +
          `${state.violation.gate} was violated at ${state.violation.at} and would have triggered a rollback.`
      : `All clear: ${state.deployId} passed every gate for ${formatDurationMs(state.windowMs)} ` +
          `(${state.pollIndex} polls).`,
  );
}

/**
 * Sleeps until `atMs` in chunks of at most HEARTBEAT_EVERY_MS, beating between them; false when interrupted (state
 * saved).
 */
async function sleepUntilPoll(run: MonitorRun, atMs: number): Promise<boolean> {
  for (;;) {
    const chunkMs = Math.min(Math.max(0, atMs - run.clock.now()), HEARTBEAT_EVERY_MS);
    try {
      await run.clock.sleep(chunkMs, run.o.signal);
    } catch {
      await saveMonitorState(run.environment, run.state);
      return false;
    }
    const nowMs = run.clock.now();
    if (nowMs >= atMs) return true;
    await recordHeartbeat(run.environment, run.state, nowMs, atMs - nowMs);
  }
}

/**
 * One poll: measure, judge every gate, log the poll line, and persist the state (with `rollback: started` when one is
 * due).
 */
export async function runOnePoll(run: MonitorRun, offsetMs: number): Promise<PollOutcome> {
  const { environment, state, gates: q, o } = run;
  run.source ??= o.signalSource ?? createSignalSource(environment, { clock: run.clock });
  const measurement = await run.source.measure({
    windows: { extractionMs: q.gates.extractionFailureRate.windowMs, p95Ms: q.gates.p95HashTime.windowMs },
    timeoutMs: o.timeoutMs ?? 5000,
  });
  const atMs = run.clock.now();
  const values = measurement.value;
  state.history = appendPoll(state.history, values, atMs, q.gates);
  const windowed = getWindowedSignals(q.gates, state.history, values, atMs);
  const results = evaluateGates(q.gates, state.history, values, atMs, windowed);
  const monitorState = assessMonitorState(results);
  const transitions = getGateTransitions(state.gateLevels, results);
  const decided = decideRollback(results, { isDryRun: o.isDryRun, rollbackStatus: state.rollback?.status });
  // Never act on a release this monitor does not watch (issue 9): checked before `rollback: started` is written.
  const supersede = decided.shouldRollback ? await findSupersede(run) : undefined;
  const decision = { ...decided, shouldRollback: decided.shouldRollback && !supersede };
  const actions = [
    ...transitions.map((t) => `notify:${t.event}:${t.gate.name}`),
    ...(supersede ? [`superseded:${supersede.by ?? 'current-changed'}`] : []),
    ...(decision.shouldRollback
      ? ['rollback']
      : decision.trigger && o.isDryRun
        ? [`would-rollback:${decision.trigger.name}`]
        : []),
  ];
  const record = buildPollRecord({ state, atMs, values, gates: results, monitorState, actions, windowed });
  await appendPollRecord(environment.paths.monitorLogsDir, record);
  state.pollIndex += 1;
  state.lastPollOffsetMs = offsetMs;
  state.lastPollAt = record.time;
  // Shown by `dhash status`: the poll after this one, not the one that just ran.
  const nextOffsetMs = getResumeOffsetMs(q.monitor.poll, state.windowMs, offsetMs, atMs - state.windowStartMs);
  state.nextPollAt =
    nextOffsetMs === undefined ? undefined : new Date(state.windowStartMs + nextOffsetMs).toISOString();
  state.latestGates = results;
  state.state = monitorState;
  state.gateStats = updateGateStats(state.gateStats, results);
  for (const t of transitions) state.gateLevels[t.gate.name] = t.to;
  if (decision.trigger && !state.violation) {
    state.violation = {
      gate: decision.trigger.name,
      value: decision.trigger.value ?? 0,
      threshold: decision.trigger.threshold,
      at: record.time,
    };
  }
  if (decision.shouldRollback)
    state.rollback = { status: 'started', startedAt: new Date(run.clock.now()).toISOString() };
  // Persisted before any notification or rollback: a restart sees `rollback: started` and never starts a second one.
  await recordHeartbeat(
    environment,
    state,
    atMs,
    nextOffsetMs === undefined ? 0 : state.windowStartMs + nextOffsetMs - atMs,
  );
  o.onPoll?.(record);
  run.logger.info(`poll ${record.pollIndex}: ${monitorState}`, {
    step: 'monitor:evaluate',
    deployId: state.deployId,
    gates: results.map((g) => `${g.name}=${g.value}:${g.verdict}`).join(' '),
  });
  run.say(`[${record.time}] poll ${record.pollIndex} ${monitorState}: ${describeFailingGates(results)}`);
  return { atMs, transitions, decision, ...(supersede ? { supersede } : {}) };
}

function describeFailingGates(results: GateResult[]): string {
  const failing = results.filter((g) => g.verdict !== 'pass');
  return (
    failing
      .map((g) => `${g.name} ${g.verdict}${g.value === null ? '' : ` (${round(g.value)} ${g.unit})`}`)
      .join(', ') || 'all gates pass'
  );
}

/**
 * Sends one notification per gate transition (recoveries as `gate-warning`); returns the deliveries for the incident.
 */
export async function notifyTransitions(run: MonitorRun, transitions: GateTransition[]): Promise<Deliveries> {
  const { state } = run;
  const deliveries: Deliveries = [];
  for (const t of transitions) {
    const report = await run.notifier.send({
      event: t.event === 'gate-recovery' ? 'gate-warning' : t.event,
      deployId: state.deployId,
      release: state.releaseId,
      gate: {
        name: t.gate.name,
        value: t.gate.value,
        threshold: t.gate.threshold,
        verdict: t.gate.verdict,
        ...(t.gate.windowMs ? { window: formatDurationMs(t.gate.windowMs) } : {}),
      },
      message:
        t.event === 'gate-recovery'
          ? `${t.gate.name} recovered (${t.from} → ${t.to}).`
          : `${t.gate.name} is ${t.to}: ` +
            `${t.gate.value === null ? (t.gate.detail ?? 'no value') : `${round(t.gate.value)} ${t.gate.unit}`}` +
            ` against ${t.gate.threshold} (action ${t.gate.action}).`,
      fields: { transition: `${t.from} → ${t.to}` },
    });
    for (const d of report?.deliveries ?? []) deliveries.push({ ...d, event: t.event });
  }
  return deliveries;
}

/** The rollback, once: a last check that this monitor still watches what serves, then backup, restore and incident. */
async function rollBack(
  run: MonitorRun,
  trigger: GateResult,
  detectedAtMs: number,
  priorDeliveries: Deliveries,
): Promise<MonitorResult> {
  const { environment, state: s, clock, logger, notifier, o } = run;
  run.say(
    `${trigger.name} violated (${trigger.value} ${trigger.unit} > ${trigger.threshold}): ` +
      `rolling back ${environment.name}.`,
  );
  // The notifications since the poll can take a while (retries): look again right before touching anything.
  const late = await findSupersede(run);
  if (late) {
    delete s.rollback;
    return finishSuperseded(run, late);
  }
  const deps =
    o.rollbackDeps ??
    (await import('./rollback-deps.js')).createRollbackDeps({
      environment,
      clock,
      logger,
      notifier,
      processEnv: o.processEnv,
    });
  const backupFile = await findRollbackBackup(environment.backupsDir, environment.name, {
    backupFile: run.deploy?.backupFile,
    startedAtMs: s.windowStartMs,
  });
  const result = await withHeartbeat(run, () =>
    performAutoRollback({
      env: environment.name,
      deployId: s.deployId,
      releaseId: s.releaseId,
      trigger,
      backupFile,
      monitorLogs: [run.logs.jsonl, run.logs.summary],
      clock,
      logger,
      notifier,
      deps,
      detectedAtMs,
      priorDeliveries,
    }),
  );
  s.rollback = {
    ...s.rollback!,
    status: result.status,
    finishedAt: result.finishedAt,
    ok: result.status === 'succeeded',
    reason: result.reason,
    ...(result.backupFile ? { backupFile: result.backupFile } : {}),
    ...(result.incidentId ? { incidentId: result.incidentId } : {}),
    ...(result.thirdOkHealthAt ? { thirdOkHealthAt: result.thirdOkHealthAt } : {}),
  };
  // Anything but success (blocked, failed, a first deploy with nothing to roll back to) is exit 4: a human must act.
  return finishMonitor(
    run,
    result.status === 'succeeded' ? 'rolled-back' : 'rollback-blocked',
    result.status === 'succeeded'
      ? `Rolled back ${environment.name}: ${result.reason}. Incident ${result.incidentId ?? '(not recorded)'}.`
      : `Rollback ${result.status}: ${result.reason}. A human must act.`,
  );
}

/**
 * Beats every HEARTBEAT_EVERY_MS while `work` runs: a restore can outlast any poll gap, and monitor.prom must not go
 * silent.
 */
async function withHeartbeat<T>(run: MonitorRun, work: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const beats = (async () => {
    for (;;) {
      try {
        await run.clock.sleep(HEARTBEAT_EVERY_MS, controller.signal);
      } catch {
        return;
      }
      await recordHeartbeat(run.environment, run.state, run.clock.now()).catch((error: unknown) =>
        run.logger.warn('heartbeat not written', { error }),
      );
    }
  })();
  try {
    return await work();
  } finally {
    controller.abort();
    await beats;
  }
}
