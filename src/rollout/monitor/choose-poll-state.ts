// Which deploy the monitor watches and with which state: resumed, fresh, or from now; and whether there is anything to
// watch.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { formatDurationMs } from '../core/duration.js';
import { getJournalFile, readJournal, summarizeDeploy, type DeploySummary } from '../state/journal.js';
import { getMonitorLogFiles } from './monitor-log.js';
import { createMonitorState, getMonitorStateFile, readMonitorState, type MonitorStateFile } from './monitor-state.js';
import { finishMonitor } from './finish-monitor.js';
import { readServingRelease, type MonitorResult, type MonitorRun, type RunMonitorOptions } from './monitor-run.js';

/**
 * The deploy named by `--deploy` (EUNKNOWNDEPLOY when the journal has no such deploy), else the latest one. A deploy
 * that reused an identical release already on disk made that one current: its deploy:finish names what it serves.
 */
async function findWatchedDeploy(
  environment: ResolvedEnvironment,
  deployId: string | undefined,
): Promise<DeploySummary | undefined> {
  const entries = await readJournal(environment);
  const id = deployId ?? [...entries].reverse().find((e) => e.kind === 'deploy' && e.step === 'deploy:start')?.deployId;
  if (id === undefined) return undefined;
  const deploy = summarizeDeploy(entries, id);
  if (!deploy)
    throw createError('EUNKNOWNDEPLOY', {
      env: environment.name,
      deployId: id,
      journalFile: getJournalFile(environment),
    });
  const finish = [...entries]
    .reverse()
    .find((e) => e.deployId === id && e.kind === 'deploy' && e.step === 'deploy:finish' && e.status === 'succeeded');
  return typeof finish?.releaseId === 'string' && finish.releaseId
    ? { ...deploy, releaseId: finish.releaseId }
    : deploy;
}

/**
 * Chooses the state to poll with: the saved window of this deploy (resume), a fresh window of the deploy, or one from
 * now.
 */
export async function choosePollState(o: RunMonitorOptions, gates: ResolvedQualityGates): Promise<MonitorRun> {
  const { environment, clock } = o;
  const say = o.print ?? (() => {});
  if (o.isResume && o.isFromNow)
    throw createError('EINVALIDOPTION', {
      option: '--resume',
      expected: 'left out with --from-now (a fresh window cannot be resumed)',
      actual: true,
    });
  const deploy = await findWatchedDeploy(environment, o.deployId);
  const saved = await readMonitorState(environment);
  const nowMs = clock.now();
  let state: MonitorStateFile;
  if (o.isFromNow) {
    const deployId =
      deploy?.deployId ?? `${environment.name}-monitor-${new Date(nowMs).toISOString().replace(/[-:.]/g, '')}`;
    const releaseId = deploy?.releaseId ?? (await readServingRelease(environment)) ?? 'unknown';
    state = createMonitorState({
      env: environment.name,
      deployId,
      releaseId,
      windowStartMs: nowMs,
      windowMs: gates.monitor.windowMs,
      isFromNow: true,
      isDryRun: o.isDryRun,
      nowMs,
    });
    // One rollback per deploy, even across a fresh window.
    if (saved?.deployId === deployId && saved.rollback) state.rollback = saved.rollback;
  } else {
    if (!deploy)
      throw createError('ENODEPLOYTOMONITOR', { env: environment.name, journalFile: getJournalFile(environment) });
    const isResumable = saved?.deployId === deploy.deployId && !saved.isFromNow;
    if (o.isResume && !isResumable)
      throw createError('ENOMONITORTORESUME', {
        env: environment.name,
        deployId: deploy.deployId,
        stateFile: getMonitorStateFile(environment),
      });
    if (isResumable) {
      state = saved;
      say(
        `Resuming the monitor of ${state.deployId} at poll ${state.pollIndex} ` +
          `(window started ${new Date(state.windowStartMs).toISOString()}).`,
      );
    } else {
      state = createMonitorState({
        env: environment.name,
        deployId: deploy.deployId,
        releaseId: deploy.releaseId,
        windowStartMs: Date.parse(deploy.startedAt),
        windowMs: gates.monitor.windowMs,
        isFromNow: false,
        isDryRun: o.isDryRun,
        nowMs,
      });
    }
  }
  return {
    o,
    environment,
    clock,
    logger: o.logger,
    notifier: o.notifier,
    gates,
    say,
    deploy,
    state,
    logs: getMonitorLogFiles(environment.paths.monitorLogsDir, state.deployId),
  };
}

/**
 * The result when there is nothing to watch: finished already, a rollback an earlier monitor began, or a window that is
 * over.
 */
export async function checkStartable(run: MonitorRun): Promise<MonitorResult | undefined> {
  const { state, environment } = run;
  const windowEndMs = state.windowStartMs + state.windowMs;
  if (state.outcome)
    return finishMonitor(
      run,
      state.outcome,
      `The monitor of ${state.deployId} already finished: ${state.outcome}.`,
      false,
    );
  if (state.rollback?.status === 'started') {
    // A monitor died during its rollback. Never start a second one: report what is serving and let a human confirm.
    const serving = await readServingRelease(environment);
    const isPreviousServing = serving !== undefined && serving !== state.releaseId;
    state.rollback = {
      ...state.rollback,
      status: isPreviousServing ? 'succeeded' : 'failed',
      ok: isPreviousServing,
      reason: 'the monitor that started this rollback stopped before recording its end',
    };
    const servingNote = isPreviousServing
      ? `Release ${serving} is serving.`
      : 'The new release is still current: a human must act.';
    return finishMonitor(
      run,
      isPreviousServing ? 'rolled-back' : 'rollback-blocked',
      `A previous monitor started a rollback at ${state.rollback.startedAt} and stopped before it finished; ` +
        `not starting another. ${servingNote}`,
    );
  }
  if (state.pollIndex === 0 && run.clock.now() > windowEndMs) {
    state.outcome = 'window-over';
    return {
      outcome: 'window-over',
      exitCode: ExitCode.OK,
      deployId: state.deployId,
      message:
        `The ${formatDurationMs(state.windowMs)} monitor window of ${state.deployId} ended at ` +
        `${new Date(windowEndMs).toISOString()}; nothing to watch. Run with --from-now to open a fresh window.`,
    };
  }
  return undefined;
}
