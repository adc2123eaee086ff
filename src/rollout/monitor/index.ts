// The T+60 monitor of one deploy: polls the signals on the configured cadence, judges the gates, persists state, and rolls back once.
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { loadQualityGates, type ResolvedQualityGates } from '../config/quality-gates.js';
import type { Clock } from '../core/clock.js';
import { createError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { formatDurationMs } from '../core/duration.js';
import { assessMonitorState, decideRollback, getGateTransitions, type GateTransition, type RollbackDecision } from '../core/gate-assessment.js';
import type { GateResult } from '../core/gates.js';
import { getResumeOffsetMs } from '../core/poll-schedule.js';
import { appendPoll, evaluateGates, getWindowedSignals } from '../core/signal-history.js';
import { appendJournal, getJournalFile, getLatestDeploy, readJournal, summarizeDeploy, type DeploySummary } from '../journal.js';
import type { Notifier } from '../notify/index.js';
import { createSignalSource, type SignalSource } from '../signals/index.js';
import type { Logger } from '../../lib/logger.js';
import { renderMonitorReport } from '../report/render-monitor-report.js';
import { findRollbackBackup, performAutoRollback, type AutoRollbackDeps, type IncidentRequest } from './auto-rollback.js';
import { HEARTBEAT_EVERY_MS } from './monitor-health.js';
import { recordHeartbeat } from './monitor-heartbeat.js';
import { acquireMonitorLock } from './monitor-lock.js';
import { appendPollRecord, buildPollRecord, getMonitorLogFiles, writeSummary, type PollRecord } from './monitor-log.js';
import {
  createMonitorState, getMonitorStateFile, readMonitorState, saveMonitorState, updateGateStats, type MonitorOutcome, type MonitorStateFile,
} from './monitor-state.js';
import { clearSupersedeRequest, readSupersedeRequest } from './supersede-monitor.js';

export interface RunMonitorOptions {
  env: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  dryRun: boolean;
  fromNow: boolean;
  /** The deploy to watch (`--deploy`); default: the latest deploy in the journal. */
  deployId?: string;
  /** `--resume`: require a saved window of that deploy and pick it up (the default does so too when one exists). */
  isResume?: boolean;
  signalSource?: SignalSource;
  gates?: ResolvedQualityGates;
  /** The rollback's effects; defaults to the real backup/rollback/incident modules. */
  rollbackDeps?: AutoRollbackDeps;
  signal?: AbortSignal;
  onPoll?: (record: PollRecord) => void;
  /** Human progress lines (the CLI prints them). */
  print?: (line: string) => void;
  /** Per-request timeout of the signal source. */
  timeoutMs?: number;
  /** Environment variables for the rollback (service process, redaction); the CLI passes its context's env. */
  processEnv?: Record<string, string | undefined>;
}

export interface MonitorResult {
  outcome: MonitorOutcome;
  exitCode: number;
  deployId?: string;
  message: string;
}

/** `superseded` is exit 3: the monitor stopped for safety and changed nothing. */
const EXIT_BY_OUTCOME: Record<MonitorOutcome, number> = {
  'all-clear': ExitCode.OK, 'window-over': ExitCode.OK, 'rolled-back': ExitCode.FAILED, 'rollback-blocked': ExitCode.HUMAN_NEEDED,
  aborted: ExitCode.REFUSED, superseded: ExitCode.REFUSED,
};

type Deliveries = IncidentRequest['deliveries'];

/** Everything one monitor run shares: its options, gates, the deploy it watches and the state it persists. */
interface MonitorRun {
  o: RunMonitorOptions;
  env: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  gates: ResolvedQualityGates;
  say: (line: string) => void;
  deploy: DeploySummary | undefined;
  state: MonitorStateFile;
  logs: { jsonl: string; summary: string };
  /** Created at the first poll. */
  source?: SignalSource;
}

/** Why this monitor must not act any more: who took over (when known) and what it saw. */
interface Supersede {
  by?: string;
  reason: string;
}

interface PollOutcome {
  atMs: number;
  transitions: GateTransition[];
  decision: RollbackDecision;
  supersede?: Supersede;
}

/** Runs the monitor of one deploy under monitor.lock; the lock is released whatever the outcome. */
export async function runMonitor(options: RunMonitorOptions): Promise<MonitorResult> {
  const { env, clock, logger } = options;
  const gates = options.gates ?? (await loadQualityGates(env.paths.root, env.name));
  const lock = await acquireMonitorLock(env, { nowMs: clock.now(), logger });
  try {
    const run = await choosePollState(options, gates);
    return (await checkStartable(run)) ?? (await watchWindow(run));
  } finally {
    await lock.release();
  }
}

/** The deploy named by `--deploy` (EUNKNOWNDEPLOY when the journal has no such deploy), else the latest one. */
async function findWatchedDeploy(env: ResolvedEnvironment, deployId: string | undefined): Promise<DeploySummary | undefined> {
  if (!deployId) return getLatestDeploy(env);
  const deploy = summarizeDeploy(await readJournal(env), deployId);
  if (!deploy) throw createError('EUNKNOWNDEPLOY', { env: env.name, deployId, journalFile: getJournalFile(env) });
  return deploy;
}

/** Chooses the state to poll with: the saved window of this deploy (resume), a fresh window of the deploy, or one from now. */
export async function choosePollState(o: RunMonitorOptions, gates: ResolvedQualityGates): Promise<MonitorRun> {
  const { env, clock } = o;
  const say = o.print ?? (() => {});
  if (o.isResume && o.fromNow) throw createError('EINVALIDOPTION', { option: '--resume', expected: 'left out with --from-now (a fresh window cannot be resumed)', actual: true });
  const deploy = await findWatchedDeploy(env, o.deployId);
  const saved = await readMonitorState(env);
  const nowMs = clock.now();
  let state: MonitorStateFile;
  if (o.fromNow) {
    const deployId = deploy?.deployId ?? `${env.name}-monitor-${new Date(nowMs).toISOString().replace(/[-:.]/g, '')}`;
    const releaseId = deploy?.releaseId ?? (await readServingRelease(env)) ?? 'unknown';
    state = createMonitorState({ env: env.name, deployId, releaseId, windowStartMs: nowMs, windowMs: gates.monitor.windowMs, isFromNow: true, isDryRun: o.dryRun, nowMs });
    // One rollback per deploy, even across a fresh window.
    if (saved?.deployId === deployId && saved.rollback) state.rollback = saved.rollback;
  } else {
    if (!deploy) throw createError('ENODEPLOYTOMONITOR', { env: env.name, journalFile: getJournalFile(env) });
    const isResumable = saved?.deployId === deploy.deployId && !saved.isFromNow;
    if (o.isResume && !isResumable) throw createError('ENOMONITORTORESUME', { env: env.name, deployId: deploy.deployId, stateFile: getMonitorStateFile(env) });
    if (isResumable) {
      state = saved;
      say(`Resuming the monitor of ${state.deployId} at poll ${state.pollIndex} (window started ${new Date(state.windowStartMs).toISOString()}).`);
    } else {
      state = createMonitorState({
        env: env.name, deployId: deploy.deployId, releaseId: deploy.releaseId, windowStartMs: Date.parse(deploy.startedAt),
        windowMs: gates.monitor.windowMs, isFromNow: false, isDryRun: o.dryRun, nowMs,
      });
    }
  }
  return {
    o, env, clock, logger: o.logger, notifier: o.notifier, gates, say, deploy, state, logs: getMonitorLogFiles(env.paths.monitorLogsDir, state.deployId),
  };
}

/** The result when there is nothing to watch: finished already, a rollback an earlier monitor began, or a window that is over. */
async function checkStartable(run: MonitorRun): Promise<MonitorResult | undefined> {
  const { state, env } = run;
  const windowEndMs = state.windowStartMs + state.windowMs;
  if (state.outcome) return finishMonitor(run, state.outcome, `The monitor of ${state.deployId} already finished: ${state.outcome}.`, false);
  if (state.rollback?.status === 'started') {
    // A monitor died during its rollback. Never start a second one: report what is serving and let a human confirm.
    const serving = await readServingRelease(env);
    const isPreviousServing = serving !== undefined && serving !== state.releaseId;
    state.rollback = { ...state.rollback, status: isPreviousServing ? 'succeeded' : 'failed', ok: isPreviousServing, reason: 'the monitor that started this rollback stopped before recording its end' };
    return finishMonitor(run, isPreviousServing ? 'rolled-back' : 'rollback-blocked',
      `A previous monitor started a rollback at ${state.rollback.startedAt} and stopped before it finished; not starting another. ${isPreviousServing ? `Release ${serving} is serving.` : 'The new release is still current: a human must act.'}`);
  }
  if (state.pollIndex === 0 && run.clock.now() > windowEndMs) {
    state.outcome = 'window-over';
    return { outcome: 'window-over', exitCode: ExitCode.OK, deployId: state.deployId,
      message: `The ${formatDurationMs(state.windowMs)} monitor window of ${state.deployId} ended at ${new Date(windowEndMs).toISOString()}; nothing to watch. Run with --from-now to open a fresh window.` };
  }
  return undefined;
}

/** The first heartbeat (quick-deploy waits for it), the journal entry and the `monitor-start` notification. */
async function announceStart(run: MonitorRun): Promise<void> {
  const { env, state, o } = run;
  const nowMs = run.clock.now();
  await recordHeartbeat(env, state, nowMs);
  await appendJournal(env, { time: new Date(nowMs).toISOString(), deployId: state.deployId, kind: 'monitor', step: 'monitor:start', status: 'started', releaseId: state.releaseId });
  await run.notifier.send({ event: 'monitor-start', deployId: state.deployId, release: state.releaseId, durationMs: state.windowMs,
    message: `Monitoring ${env.name} (${state.releaseId}) for ${formatDurationMs(state.windowMs)}${state.pollIndex > 0 ? `, resumed at poll ${state.pollIndex}` : ''}${o.dryRun ? ' (dry run: no rollback)' : ''}.` });
  run.say(`Monitoring ${state.deployId} (${state.releaseId}) until ${new Date(state.windowStartMs + state.windowMs).toISOString()}${o.dryRun ? ' [dry run]' : ''}.`);
}

/** Polls until the window ends, the monitor is interrupted or superseded, or a rollback gate fires. */
async function watchWindow(run: MonitorRun): Promise<MonitorResult> {
  const { state, gates } = run;
  await announceStart(run);
  for (;;) {
    const offsetMs = getResumeOffsetMs(gates.monitor.poll, state.windowMs, state.lastPollOffsetMs, run.clock.now() - state.windowStartMs);
    if (offsetMs === undefined) break;
    state.nextPollAt = new Date(state.windowStartMs + offsetMs).toISOString();
    if (!(await sleepUntilPoll(run, state.windowStartMs + offsetMs))) return finishInterrupted(run);
    const poll = await runOnePoll(run, offsetMs);
    const deliveries = await notifyTransitions(run, poll.transitions);
    if (poll.supersede) return finishSuperseded(run, poll.supersede);
    if (poll.decision.shouldRollback && poll.decision.trigger) return rollBack(run, poll.decision.trigger, poll.atMs, deliveries);
  }
  return finishMonitor(run, state.violation && run.o.dryRun ? 'window-over' : 'all-clear',
    state.violation && run.o.dryRun
      ? `Dry run: the window of ${state.deployId} ended; ${state.violation.gate} was violated at ${state.violation.at} and would have triggered a rollback.`
      : `All clear: ${state.deployId} passed every gate for ${formatDurationMs(state.windowMs)} (${state.pollIndex} polls).`);
}

/** Sleeps until `atMs` in chunks of at most HEARTBEAT_EVERY_MS, beating between them; false when interrupted (state saved). */
async function sleepUntilPoll(run: MonitorRun, atMs: number): Promise<boolean> {
  for (;;) {
    const chunkMs = Math.min(Math.max(0, atMs - run.clock.now()), HEARTBEAT_EVERY_MS);
    try {
      await run.clock.sleep(chunkMs, run.o.signal);
    } catch {
      await saveMonitorState(run.env, run.state);
      return false;
    }
    const nowMs = run.clock.now();
    if (nowMs >= atMs) return true;
    await recordHeartbeat(run.env, run.state, nowMs, atMs - nowMs);
  }
}

/** One poll: measure, judge every gate, log the poll line, and persist the state (with `rollback: started` when one is due). */
export async function runOnePoll(run: MonitorRun, offsetMs: number): Promise<PollOutcome> {
  const { env, state, gates: q, o } = run;
  run.source ??= o.signalSource ?? createSignalSource(env, { clock: run.clock });
  const measurement = await run.source.measure({ windows: { extractionMs: q.gates.extractionFailureRate.windowMs, p95Ms: q.gates.p95HashTime.windowMs }, timeoutMs: o.timeoutMs ?? 5000 });
  const atMs = run.clock.now();
  const values = measurement.value;
  state.history = appendPoll(state.history, values, atMs, q.gates);
  const windowed = getWindowedSignals(q.gates, state.history, values, atMs);
  const results = evaluateGates(q.gates, state.history, values, atMs, windowed);
  const monitorState = assessMonitorState(results);
  const transitions = getGateTransitions(state.gateLevels, results);
  const decided = decideRollback(results, { dryRun: o.dryRun, rollbackStatus: state.rollback?.status });
  // Never act on a release this monitor does not watch (issue 9): checked before `rollback: started` is written.
  const supersede = decided.shouldRollback ? await findSupersede(run) : undefined;
  const decision = { ...decided, shouldRollback: decided.shouldRollback && !supersede };
  const actions = [
    ...transitions.map((t) => `notify:${t.event}:${t.gate.name}`),
    ...(supersede ? [`superseded:${supersede.by ?? 'current-changed'}`] : []),
    ...(decision.shouldRollback ? ['rollback'] : decision.trigger && o.dryRun ? [`would-rollback:${decision.trigger.name}`] : []),
  ];
  const record = buildPollRecord({ state, atMs, values, gates: results, monitorState, actions, windowed });
  await appendPollRecord(env.paths.monitorLogsDir, record);
  state.pollIndex += 1;
  state.lastPollOffsetMs = offsetMs;
  state.lastPollAt = record.time;
  // Shown by `dhash status`: the poll after this one, not the one that just ran.
  const nextOffsetMs = getResumeOffsetMs(q.monitor.poll, state.windowMs, offsetMs, atMs - state.windowStartMs);
  state.nextPollAt = nextOffsetMs === undefined ? undefined : new Date(state.windowStartMs + nextOffsetMs).toISOString();
  state.latestGates = results;
  state.state = monitorState;
  state.gateStats = updateGateStats(state.gateStats, results);
  for (const t of transitions) state.gateLevels[t.gate.name] = t.to;
  if (decision.trigger && !state.violation) {
    state.violation = { gate: decision.trigger.name, value: decision.trigger.value ?? 0, threshold: decision.trigger.threshold, at: record.time };
  }
  if (decision.shouldRollback) state.rollback = { status: 'started', startedAt: new Date(run.clock.now()).toISOString() };
  // Persisted before any notification or rollback: a restart sees `rollback: started` and never starts a second one.
  await recordHeartbeat(env, state, atMs, nextOffsetMs === undefined ? 0 : state.windowStartMs + nextOffsetMs - atMs);
  o.onPoll?.(record);
  run.logger.info(`poll ${record.pollIndex}: ${monitorState}`, { step: 'monitor:evaluate', deployId: state.deployId, gates: results.map((g) => `${g.name}=${g.value}:${g.verdict}`).join(' ') });
  run.say(`[${record.time}] poll ${record.pollIndex} ${monitorState}: ${describeFailingGates(results)}`);
  return { atMs, transitions, decision, ...(supersede ? { supersede } : {}) };
}

function describeFailingGates(results: GateResult[]): string {
  const failing = results.filter((g) => g.verdict !== 'pass');
  return failing.map((g) => `${g.name} ${g.verdict}${g.value === null ? '' : ` (${round(g.value)} ${g.unit})`}`).join(', ') || 'all gates pass';
}

/** Sends one notification per gate transition (recoveries as `gate-warning`); returns the deliveries for the incident. */
export async function notifyTransitions(run: MonitorRun, transitions: GateTransition[]): Promise<Deliveries> {
  const { state } = run;
  const deliveries: Deliveries = [];
  for (const t of transitions) {
    const report = await run.notifier.send({
      event: t.event === 'gate-recovery' ? 'gate-warning' : t.event,
      deployId: state.deployId, release: state.releaseId,
      gate: { name: t.gate.name, value: t.gate.value, threshold: t.gate.threshold, verdict: t.gate.verdict, ...(t.gate.windowMs ? { window: formatDurationMs(t.gate.windowMs) } : {}) },
      message: t.event === 'gate-recovery'
        ? `${t.gate.name} recovered (${t.from} → ${t.to}).`
        : `${t.gate.name} is ${t.to}: ${t.gate.value === null ? t.gate.detail ?? 'no value' : `${round(t.gate.value)} ${t.gate.unit}`} against ${t.gate.threshold} (action ${t.gate.action}).`,
      fields: { transition: `${t.from} → ${t.to}` },
    });
    for (const d of report?.deliveries ?? []) deliveries.push({ ...d, event: t.event });
  }
  return deliveries;
}

/** `current` as a release id, or undefined when nothing is deployed. */
async function readServingRelease(env: ResolvedEnvironment): Promise<string | undefined> {
  return readlink(env.currentLink).then((t) => basename(t), () => undefined);
}

/** A supersede request naming this process, or `current` no longer pointing at the watched release; else undefined. */
async function findSupersede(run: MonitorRun): Promise<Supersede | undefined> {
  const { env, state } = run;
  const request = await readSupersedeRequest(env);
  if (request?.pid === process.pid) return { by: request.byDeployId, reason: `${request.byDeployId} took over ${env.name}` };
  const serving = await readServingRelease(env);
  if (serving === state.releaseId) return undefined;
  // Named only when a later deploy or rollback is journaled; an out-of-band switch has no id to give.
  const other = [...(await readJournal(env))].reverse()
    .find((e) => (e.kind === 'deploy' || e.kind === 'rollback') && e.deployId !== state.deployId && Date.parse(e.time) > state.windowStartMs);
  return { ...(other ? { by: other.deployId } : {}), reason: `current points at ${serving ?? 'nothing'}, not at ${state.releaseId}, the release this monitor watches` };
}

/** SIGTERM or Ctrl-C: `superseded` when a deploy asked for it (request file naming this pid), else `aborted` (resumable). */
async function finishInterrupted(run: MonitorRun): Promise<MonitorResult> {
  const request = await readSupersedeRequest(run.env);
  if (request?.pid === process.pid) return finishSuperseded(run, { by: request.byDeployId, reason: `${request.byDeployId} took over ${run.env.name}` });
  return finishMonitor(run, 'aborted', `The monitor of ${run.state.deployId} was interrupted at poll ${run.state.pollIndex}; run the same command to resume.`);
}

async function finishSuperseded(run: MonitorRun, supersede: Supersede): Promise<MonitorResult> {
  run.state.supersededBy = supersede.by;
  run.state.supersedeReason = supersede.reason;
  return finishMonitor(run, 'superseded',
    `The monitor of ${run.state.deployId} (${run.state.releaseId}) is superseded${supersede.by ? ` by ${supersede.by}` : ''}: ${supersede.reason}. It stopped without acting.`);
}

/** The rollback, once: a last check that this monitor still watches what serves, then backup, restore and incident. */
async function rollBack(run: MonitorRun, trigger: GateResult, detectedAtMs: number, priorDeliveries: Deliveries): Promise<MonitorResult> {
  const { env, state: s, clock, logger, notifier, o } = run;
  run.say(`${trigger.name} violated (${trigger.value} ${trigger.unit} > ${trigger.threshold}): rolling back ${env.name}.`);
  // The notifications since the poll can take a while (retries): look again right before touching anything.
  const late = await findSupersede(run);
  if (late) {
    delete s.rollback;
    return finishSuperseded(run, late);
  }
  const deps = o.rollbackDeps ?? (await import('./rollback-deps.js')).createRollbackDeps({ env, clock, logger, notifier, processEnv: o.processEnv });
  const backupFile = await findRollbackBackup(env.backupsDir, env.name, { backupFile: run.deploy?.backupFile, startedAtMs: s.windowStartMs });
  const result = await withHeartbeat(run, () => performAutoRollback({
    env: env.name, deployId: s.deployId, releaseId: s.releaseId, trigger, backupFile, monitorLogs: [run.logs.jsonl, run.logs.summary],
    clock, logger, notifier, deps, detectedAtMs, priorDeliveries,
  }));
  s.rollback = { ...s.rollback!, status: result.status, finishedAt: result.finishedAt, ok: result.status === 'succeeded', reason: result.reason,
    ...(result.backupFile ? { backupFile: result.backupFile } : {}), ...(result.incidentId ? { incidentId: result.incidentId } : {}),
    ...(result.thirdOkHealthAt ? { thirdOkHealthAt: result.thirdOkHealthAt } : {}) };
  // Anything but success (blocked, failed, a first deploy with nothing to roll back to) is exit 4: a human must act.
  return finishMonitor(run, result.status === 'succeeded' ? 'rolled-back' : 'rollback-blocked',
    result.status === 'succeeded' ? `Rolled back ${env.name}: ${result.reason}. Incident ${result.incidentId ?? '(not recorded)'}.` : `Rollback ${result.status}: ${result.reason}. A human must act.`);
}

/** Beats every HEARTBEAT_EVERY_MS while `work` runs: a restore can outlast any poll gap, and monitor.prom must not go silent. */
async function withHeartbeat<T>(run: MonitorRun, work: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const beats = (async () => {
    for (;;) {
      try {
        await run.clock.sleep(HEARTBEAT_EVERY_MS, controller.signal);
      } catch {
        return;
      }
      await recordHeartbeat(run.env, run.state, run.clock.now()).catch((error: unknown) => run.logger.warn('heartbeat not written', { error }));
    }
  })();
  try {
    return await work();
  } finally {
    controller.abort();
    await beats;
  }
}

/** Records the outcome (state, summary, HTML report, journal, `monitor-complete`) unless aborted or already recorded. */
export async function finishMonitor(run: MonitorRun, outcome: MonitorOutcome, message: string, shouldRecord = true): Promise<MonitorResult> {
  const { env, state, clock, logger } = run;
  if (shouldRecord && outcome !== 'aborted') {
    state.outcome = outcome;
    state.endedAt = new Date(clock.now()).toISOString();
    await recordHeartbeat(env, state, clock.now(), 0);
    await writeSummary(env.paths.monitorLogsDir, state, clock.now());
    // The HTML report is for people; failing to draw it must never change the monitor's outcome.
    await renderMonitorReport(env.paths.root, state.deployId).catch((error: unknown) => logger.warn('monitor report not rendered', { error }));
    const isGood = outcome === 'all-clear' || outcome === 'window-over';
    await appendJournal(env, { time: state.endedAt, deployId: state.deployId, kind: 'monitor', step: 'monitor:finish', status: isGood ? 'succeeded' : 'failed', outcome,
      ...(state.supersededBy ? { supersededBy: state.supersededBy } : {}) });
    if (isGood || outcome === 'superseded') {
      await run.notifier.send({ event: 'monitor-complete', deployId: state.deployId, release: state.releaseId, durationMs: state.windowMs, message,
        fields: { polls: state.pollIndex, outcome, ...(state.supersededBy ? { supersededBy: state.supersededBy } : {}),
          ...Object.fromEntries(Object.entries(state.gateStats).map(([k, v]) => [`worst ${k}`, v.worstValue === null ? 'n/a' : `${round(v.worstValue)} ${v.unit}`])) } });
    }
    if (outcome === 'superseded') await clearSupersedeRequest(env, process.pid);
  }
  run.say(message);
  return { outcome, exitCode: EXIT_BY_OUTCOME[outcome], deployId: state.deployId, message };
}

const round = (n: number) => Math.round(n * 100) / 100;
