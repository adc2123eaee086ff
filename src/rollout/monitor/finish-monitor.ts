// How a monitor run ends: superseded (a request or `current` switched away), aborted, or its recorded outcome.
import { appendJournal, readJournal } from '../state/journal.js';
import { renderMonitorReport } from '../report/render-monitor-report.js';
import { recordHeartbeat } from './monitor-heartbeat.js';
import { writeSummary } from './monitor-log.js';
import type { MonitorOutcome } from './monitor-state.js';
import { clearSupersedeRequest, readSupersedeRequest } from './supersede-monitor.js';
import { removeMonitorEnvFile } from './monitor-unit.js';
import {
  EXIT_BY_OUTCOME,
  readServingRelease,
  round,
  type MonitorResult,
  type MonitorRun,
  type Supersede,
} from './monitor-run.js';

/** A supersede request naming this process, or `current` no longer pointing at the watched release; else undefined. */
export async function findSupersede(run: MonitorRun): Promise<Supersede | undefined> {
  const { environment, state } = run;
  const request = await readSupersedeRequest(environment);
  if (request?.pid === process.pid)
    return { by: request.byDeployId, reason: `${request.byDeployId} took over ${environment.name}` };
  const serving = await readServingRelease(environment);
  if (serving === state.releaseId) return undefined;
  // Named only when a later deploy or rollback is journaled; an out-of-band switch has no id to give.
  const other = [...(await readJournal(environment))]
    .reverse()
    .find(
      (e) =>
        (e.kind === 'deploy' || e.kind === 'rollback') &&
        e.deployId !== state.deployId &&
        Date.parse(e.time) > state.windowStartMs,
    );
  return {
    ...(other ? { by: other.deployId } : {}),
    reason: `current points at ${serving ?? 'nothing'}, not at ${state.releaseId}, the release this monitor watches`,
  };
}

/**
 * SIGTERM or Ctrl-C: `superseded` when a deploy asked for it (request file naming this pid), else `aborted`
 * (resumable).
 */
export async function finishInterrupted(run: MonitorRun): Promise<MonitorResult> {
  const request = await readSupersedeRequest(run.environment);
  if (request?.pid === process.pid)
    return finishSuperseded(run, {
      by: request.byDeployId,
      reason: `${request.byDeployId} took over ${run.environment.name}`,
    });
  return finishMonitor(
    run,
    'aborted',
    `The monitor of ${run.state.deployId} was interrupted at poll ${run.state.pollIndex}; ` +
      'run the same command to resume.',
  );
}

export async function finishSuperseded(run: MonitorRun, supersede: Supersede): Promise<MonitorResult> {
  run.state.supersededBy = supersede.by;
  run.state.supersedeReason = supersede.reason;
  const bySuffix = supersede.by ? ` by ${supersede.by}` : '';
  return finishMonitor(
    run,
    'superseded',
    `The monitor of ${run.state.deployId} (${run.state.releaseId}) is superseded${bySuffix}: ` +
      `${supersede.reason}. It stopped without acting.`,
  );
}

/**
 * Records the outcome (state, summary, HTML report, journal, `monitor-complete`) unless aborted or already recorded.
 */
export async function finishMonitor(
  run: MonitorRun,
  outcome: MonitorOutcome,
  message: string,
  shouldRecord = true,
): Promise<MonitorResult> {
  const { environment, state, clock, logger } = run;
  if (shouldRecord && outcome !== 'aborted') {
    state.outcome = outcome;
    state.endedAt = new Date(clock.now()).toISOString();
    await recordHeartbeat(environment, state, clock.now(), 0);
    await writeSummary(environment.paths.monitorLogsDir, state, clock.now());
    // The HTML report is for people; failing to draw it must never change the monitor's outcome.
    await renderMonitorReport(environment.paths.root, state.deployId).catch((error: unknown) =>
      logger.warn('monitor report not rendered', { error }),
    );
    const isGood = outcome === 'all-clear' || outcome === 'window-over';
    await appendJournal(environment, {
      time: state.endedAt,
      deployId: state.deployId,
      kind: 'monitor',
      step: 'monitor:finish',
      status: isGood ? 'succeeded' : 'failed',
      outcome,
      ...(state.supersededBy ? { supersededBy: state.supersededBy } : {}),
    });
    if (isGood || outcome === 'superseded') {
      await run.notifier.send({
        event: 'monitor-complete',
        deployId: state.deployId,
        release: state.releaseId,
        durationMs: state.windowMs,
        message,
        fields: {
          polls: state.pollIndex,
          outcome,
          ...(state.supersededBy ? { supersededBy: state.supersededBy } : {}),
          ...Object.fromEntries(
            Object.entries(state.gateStats).map(([k, v]) => [
              `worst ${k}`,
              v.worstValue === null ? 'n/a' : `${round(v.worstValue)} ${v.unit}`,
            ]),
          ),
        },
      });
    }
    if (outcome === 'superseded') await clearSupersedeRequest(environment, process.pid);
    // Recorded: a restart by systemd would only repeat it, so the unit's secrets go (an aborted run keeps them).
    const kept = await removeMonitorEnvFile(environment, state.deployId);
    if (kept) logger.warn('monitor environment file not removed; remove it by hand', { file: kept });
  }
  run.say(message);
  return { outcome, exitCode: EXIT_BY_OUTCOME[outcome], deployId: state.deployId, message };
}
