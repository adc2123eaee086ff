// The T+60 monitor: polls the signals on the configured cadence, judges the gates, persists state, and rolls back once.
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { loadQualityGates, type ResolvedQualityGates } from '../config/quality-gates.js';
import type { Clock } from '../core/clock.js';
import { createError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { formatDurationMs } from '../core/duration.js';
import { assessMonitorState, decideRollback, getGateTransitions } from '../core/gate-assessment.js';
import { getResumeOffsetMs } from '../core/poll-schedule.js';
import { appendPoll, evaluateGates, getWindowedSignals } from '../core/signal-history.js';
import { appendJournal, getJournalFile, getLatestDeploy } from '../journal.js';
import type { Notifier } from '../notify/index.js';
import { createSignalSource, type SignalSource } from '../signals/index.js';
import type { Logger } from '../../lib/logger.js';
import { renderMonitorReport } from '../report/render-monitor-report.js';
import { findRollbackBackup, performAutoRollback, type AutoRollbackDeps } from './auto-rollback.js';
import { acquireMonitorLock } from './monitor-lock.js';
import { appendPollRecord, buildPollRecord, getMonitorLogFiles, writeSummary, type PollRecord } from './monitor-log.js';
import { createMonitorState, readMonitorState, saveMonitorState, updateGateStats, type MonitorOutcome, type MonitorStateFile } from './monitor-state.js';

export interface RunMonitorOptions {
  env: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  dryRun: boolean;
  fromNow: boolean;
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

const EXIT_BY_OUTCOME: Record<MonitorOutcome, number> = {
  'all-clear': ExitCode.OK, 'window-over': ExitCode.OK, 'rolled-back': ExitCode.FAILED, 'rollback-blocked': ExitCode.HUMAN_NEEDED, aborted: ExitCode.REFUSED,
};

export async function runMonitor(options: RunMonitorOptions): Promise<MonitorResult> {
  const { env, clock, logger, notifier } = options;
  const print = options.print ?? (() => {});
  const gates = options.gates ?? (await loadQualityGates(env.paths.root, env.name));
  const lock = await acquireMonitorLock(env, { nowMs: clock.now(), logger });
  try {
    return await monitorLocked(options, gates, print);
  } finally {
    await lock.release();
  }
  async function monitorLocked(o: RunMonitorOptions, q: ResolvedQualityGates, say: (l: string) => void): Promise<MonitorResult> {
    const deploy = await getLatestDeploy(env);
    const saved = await readMonitorState(env);
    const nowMs = clock.now();
    let state: MonitorStateFile;
    if (o.fromNow) {
      const deployId = deploy?.deployId ?? `${env.name}-monitor-${new Date(nowMs).toISOString().replace(/[-:.]/g, '')}`;
      const releaseId = deploy?.releaseId ?? (await readlink(env.currentLink).then((t) => basename(t), () => 'unknown'));
      state = createMonitorState({ env: env.name, deployId, releaseId, windowStartMs: nowMs, windowMs: q.monitor.windowMs, isFromNow: true, isDryRun: o.dryRun, nowMs });
      // One rollback per deploy, even across a fresh window.
      if (saved?.deployId === deployId && saved.rollback) state.rollback = saved.rollback;
    } else {
      if (!deploy) throw createError('ENODEPLOYTOMONITOR', { env: env.name, journalFile: getJournalFile(env) });
      if (saved?.deployId === deploy.deployId && !saved.isFromNow) {
        state = saved;
        say(`Resuming the monitor of ${state.deployId} at poll ${state.pollIndex} (window started ${new Date(state.windowStartMs).toISOString()}).`);
      } else {
        state = createMonitorState({
          env: env.name, deployId: deploy.deployId, releaseId: deploy.releaseId, windowStartMs: Date.parse(deploy.startedAt),
          windowMs: q.monitor.windowMs, isFromNow: false, isDryRun: o.dryRun, nowMs,
        });
      }
    }
    const logs = getMonitorLogFiles(env.paths.monitorLogsDir, state.deployId);
    const windowEndMs = state.windowStartMs + state.windowMs;

    if (state.outcome) return finish(state.outcome, `The monitor of ${state.deployId} already finished: ${state.outcome}.`, false);
    if (state.rollback?.status === 'started') {
      // A monitor died during its rollback. Never start a second one: report what is serving and let a human confirm.
      const serving = await readlink(env.currentLink).then((t) => basename(t), () => undefined);
      const isPreviousServing = serving !== undefined && serving !== state.releaseId;
      state.rollback = { ...state.rollback, status: isPreviousServing ? 'succeeded' : 'failed', ok: isPreviousServing, reason: 'the monitor that started this rollback stopped before recording its end' };
      return finish(isPreviousServing ? 'rolled-back' : 'rollback-blocked',
        `A previous monitor started a rollback at ${state.rollback.startedAt} and stopped before it finished; not starting another. ${isPreviousServing ? `Release ${serving} is serving.` : 'The new release is still current: a human must act.'}`);
    }
    if (state.pollIndex === 0 && nowMs > windowEndMs) {
      state.outcome = 'window-over';
      return { outcome: 'window-over', exitCode: ExitCode.OK, deployId: state.deployId,
        message: `The ${formatDurationMs(state.windowMs)} monitor window of ${state.deployId} ended at ${new Date(windowEndMs).toISOString()}; nothing to watch. Run with --from-now to open a fresh window.` };
    }

    const source = o.signalSource ?? createSignalSource(env, { clock });
    await appendJournal(env, { time: new Date(nowMs).toISOString(), deployId: state.deployId, kind: 'monitor', step: 'monitor:start', status: 'started', releaseId: state.releaseId });
    await notifier.send({ event: 'monitor-start', deployId: state.deployId, release: state.releaseId, durationMs: state.windowMs,
      message: `Monitoring ${env.name} (${state.releaseId}) for ${formatDurationMs(state.windowMs)}${state.pollIndex > 0 ? `, resumed at poll ${state.pollIndex}` : ''}${o.dryRun ? ' (dry run: no rollback)' : ''}.` });
    say(`Monitoring ${state.deployId} (${state.releaseId}) until ${new Date(windowEndMs).toISOString()}${o.dryRun ? ' [dry run]' : ''}.`);

    for (;;) {
      const offsetMs = getResumeOffsetMs(q.monitor.poll, state.windowMs, state.lastPollOffsetMs, clock.now() - state.windowStartMs);
      if (offsetMs === undefined) break;
      state.nextPollAt = new Date(state.windowStartMs + offsetMs).toISOString();
      try {
        await clock.sleep(Math.max(0, state.windowStartMs + offsetMs - clock.now()), o.signal);
      } catch {
        await saveMonitorState(env, state);
        return finish('aborted', `The monitor of ${state.deployId} was interrupted at poll ${state.pollIndex}; run the same command to resume.`);
      }
      const measurement = await source.measure({ windows: { extractionMs: q.gates.extractionFailureRate.windowMs, p95Ms: q.gates.p95HashTime.windowMs }, timeoutMs: o.timeoutMs ?? 5000 });
      const atMs = clock.now();
      const values = measurement.value;
      state.history = appendPoll(state.history, values, atMs, q.gates);
      const windowed = getWindowedSignals(q.gates, state.history, values, atMs);
      const results = evaluateGates(q.gates, state.history, values, atMs, windowed);
      const monitorState = assessMonitorState(results);
      const transitions = getGateTransitions(state.gateLevels, results);
      const decision = decideRollback(results, { dryRun: o.dryRun, rollbackStatus: state.rollback?.status });
      const actions = [
        ...transitions.map((t) => `notify:${t.event}:${t.gate.name}`),
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
      if (decision.shouldRollback) state.rollback = { status: 'started', startedAt: new Date(clock.now()).toISOString() };
      // Persisted before any notification or rollback: a restart sees `rollback: started` and never starts a second one.
      await saveMonitorState(env, state);
      o.onPoll?.(record);
      logger.info(`poll ${record.pollIndex}: ${monitorState}`, { step: 'monitor:evaluate', deployId: state.deployId, gates: results.map((g) => `${g.name}=${g.value}:${g.verdict}`).join(' ') });
      say(`[${record.time}] poll ${record.pollIndex} ${monitorState}: ${results.filter((g) => g.verdict !== 'pass').map((g) => `${g.name} ${g.verdict}${g.value === null ? '' : ` (${round(g.value)} ${g.unit})`}`).join(', ') || 'all gates pass'}`);
      const deliveries: { channel: string; status: string; attempts?: number; error?: string; outboxFile?: string; event?: string }[] = [];
      for (const t of transitions) {
        const report = await notifier.send({
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
      if (decision.shouldRollback && decision.trigger) return rollBack(state, decision.trigger, atMs, deliveries);
    }
    return finish(state.violation && o.dryRun ? 'window-over' : 'all-clear',
      state.violation && o.dryRun
        ? `Dry run: the window of ${state.deployId} ended; ${state.violation.gate} was violated at ${state.violation.at} and would have triggered a rollback.`
        : `All clear: ${state.deployId} passed every gate for ${formatDurationMs(state.windowMs)} (${state.pollIndex} polls).`);

    async function rollBack(s: MonitorStateFile, trigger: (typeof s.latestGates)[number], detectedAtMs: number, priorDeliveries: { channel: string; status: string; event?: string }[]): Promise<MonitorResult> {
      say(`${trigger.name} violated (${trigger.value} ${trigger.unit} > ${trigger.threshold}): rolling back ${env.name}.`);
      const deps = o.rollbackDeps ?? (await import('./rollback-deps.js')).createRollbackDeps({ env, clock, logger, notifier, processEnv: o.processEnv });
      const backupFile = await findRollbackBackup(env.backupsDir, env.name, { backupFile: deploy?.backupFile, startedAtMs: s.windowStartMs });
      const result = await performAutoRollback({
        env: env.name, deployId: s.deployId, releaseId: s.releaseId, trigger, backupFile, monitorLogs: [logs.jsonl, logs.summary],
        clock, logger, notifier, deps, detectedAtMs, priorDeliveries,
      });
      s.rollback = { ...s.rollback!, status: result.status, finishedAt: result.finishedAt, ok: result.status === 'succeeded', reason: result.reason,
        ...(result.backupFile ? { backupFile: result.backupFile } : {}), ...(result.incidentId ? { incidentId: result.incidentId } : {}),
        ...(result.thirdOkHealthAt ? { thirdOkHealthAt: result.thirdOkHealthAt } : {}) };
      return finish(result.status === 'succeeded' ? 'rolled-back' : 'rollback-blocked',
        result.status === 'succeeded' ? `Rolled back ${env.name}: ${result.reason}. Incident ${result.incidentId ?? '(not recorded)'}.` : `Rollback ${result.status}: ${result.reason}. A human must act.`);
    }

    async function finish(outcome: MonitorOutcome, message: string, shouldRecord = true): Promise<MonitorResult> {
      if (shouldRecord && outcome !== 'aborted') {
        state.outcome = outcome;
        state.endedAt = new Date(clock.now()).toISOString();
        await saveMonitorState(env, state);
        await writeSummary(env.paths.monitorLogsDir, state, clock.now());
        // The HTML report is for people; failing to draw it must never change the monitor's outcome.
        await renderMonitorReport(env.paths.root, state.deployId).catch((error: unknown) => logger.warn('monitor report not rendered', { error }));
        await appendJournal(env, { time: state.endedAt, deployId: state.deployId, kind: 'monitor', step: 'monitor:finish', status: outcome === 'all-clear' || outcome === 'window-over' ? 'succeeded' : 'failed', outcome });
        if (outcome === 'all-clear' || outcome === 'window-over') {
          await notifier.send({ event: 'monitor-complete', deployId: state.deployId, release: state.releaseId, durationMs: state.windowMs, message,
            fields: { polls: state.pollIndex, outcome, ...Object.fromEntries(Object.entries(state.gateStats).map(([k, v]) => [`worst ${k}`, v.worstValue === null ? 'n/a' : `${round(v.worstValue)} ${v.unit}`])) } });
        }
      }
      say(message);
      return { outcome, exitCode: EXIT_BY_OUTCOME[outcome], deployId: state.deployId, message };
    }
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
