// Under the environment lock: backup once, migrate once, then every wave (update the hosts, bake); a failure after the
// first change rolls every touched host back and opens one incident; after the last wave, the fleet's T+60 monitor.
import { ExitCode, type ExitCodeValue } from '../../lib/exit-codes.js';
import { activateWave } from './activate-wave.js';
import { bakeWave } from './bake-wave.js';
import type { FleetDatabase } from './fleet-database.js';
import { describeFailurePoint, openFleetIncident, type FleetFailure } from './fleet-incident.js';
import { getActiveHostNames, saveRunState, type FleetRolloutResult, type FleetRun } from './fleet-run.js';
import { rollBackFleet } from './roll-back-fleet.js';
import { watchFleet } from './watch-fleet.js';

/** Under the lock: backup, migrate, then the waves; every failure after the first change ends in a result. */
export async function runRollout(run: FleetRun, database: FleetDatabase): Promise<FleetRolloutResult> {
  const { state, steps } = run;
  await steps.begin('deploy:start', `fleet rollout of ${state.releaseId} to ${state.hosts.length} host(s)`, {
    releaseId: state.releaseId,
    isFleet: true,
    hosts: state.hosts.map((h) => ({ name: h.name, wave: h.wave, previousReleaseId: h.previousReleaseId })),
  });
  await saveRunState(run);
  await notify(run, 'start');
  try {
    const backup = await steps.run(
      'fleet:backup',
      () => database.backUp(),
      (b) => (b.file ? `${b.file}: ${b.detail}` : b.detail),
    );
    if (backup.file) state.backupFile = backup.file;
    await saveRunState(run);
    const migrated = await steps.run(
      'fleet:migrate',
      () => database.migrate(),
      (m) => `schema ${m.fromVersion} → ${m.toVersion} (${m.applied.length} applied, all backward compatible)`,
    );
    run.appliedMigrations = migrated.applied;
  } catch (error) {
    // Nothing of any host changed: every host serves what it served (a failed migration rolled itself back).
    const message =
      `fleet rollout of ${state.releaseId} failed before wave 1 ` +
      `(${(error as Error).message}); no host was changed`;
    state.status = 'failed';
    await notify(run, 'failure', message);
    return finishRollout(run, { ok: false, exitCode: ExitCode.FAILED, message });
  }
  await steps.record('fleet:rollback-strategy', 'succeeded', `rollback strategy: ${state.rollbackStrategy}`, {
    appliedMigrations: run.appliedMigrations,
    rollbackStrategy: run.strategy.strategy,
  });
  for (const wave of run.fleet.plan.waves) {
    let failure: FleetFailure | undefined;
    try {
      const activation = await activateWave(run, wave);
      if (!activation.ok) failure = { reason: activation.reason, stoppedInWave: wave.number, violations: [] };
      else {
        const bake = await bakeWave(run, wave);
        if (!bake.ok) failure = { reason: bake.reason, stoppedInWave: wave.number, violations: bake.violations };
      }
    } catch (error) {
      // An unexpected error (a full disk under the journal): the hosts already touched are still rolled back.
      failure = { reason: `unexpected error: ${(error as Error).message}`, stoppedInWave: wave.number, violations: [] };
    }
    if (failure) return stopAndRollBack(run, failure);
  }
  return finishSucceeded(run);
}

async function finishSucceeded(run: FleetRun): Promise<FleetRolloutResult> {
  const { state } = run;
  const active = getActiveHostNames(run);
  const unreachable = state.hosts.filter((h) => h.phase === 'unreachable');
  state.status = 'succeeded';
  const missed = unreachable.length
    ? `; ${unreachable.map((h) => `${h.name} unreachable (${h.detail ?? 'no answer'})`).join('; ')}: ` +
      `within maxUnavailable ${state.maxUnavailable}, ` +
      `run the rollout again once ${unreachable.length === 1 ? 'it is' : 'they are'} back`
    : '';
  await notify(run, 'success', `${state.releaseId} serves on ${active.join(', ')}${missed}`);
  return finishRollout(run, {
    ok: true,
    exitCode: ExitCode.OK,
    message:
      `rolled out ${state.releaseId} to ${active.length} of ${state.hosts.length} host(s) ` +
      `(${active.join(', ')})${missed}`,
  });
}

/** Stops the rollout: every touched host rolled back and verified, one incident (which sends the one notification). */
async function stopAndRollBack(run: FleetRun, failure: FleetFailure): Promise<FleetRolloutResult> {
  const { state } = run;
  run.say(`  ✗ wave ${failure.stoppedInWave} stopped: ${failure.reason}; rolling back`);
  const rollback = await rollBackFleet(run);
  state.status = rollback.ok ? 'rolled-back' : 'rollback-failed';
  const incidentId = await openFleetIncident(run, failure, rollback);
  if (incidentId) state.incidentId = incidentId;
  const rolledBack = rollback.hosts.filter((h) => h.ok).map((h) => h.host);
  const never = state.hosts.filter((h) => !h.isTouched).map((h) => h.name);
  const parts = [
    rolledBack.length ? `rolled back ${rolledBack.join(', ')} (each verified healthy)` : '',
    rollback.hosts.length === 0 ? 'no host had to be rolled back' : '',
    ...rollback.failed.map((h) => `${h.host} could NOT be rolled back: ${h.detail}`),
    never.length ? `${never.join(', ')} never received it` : '',
  ].filter(Boolean);
  return finishRollout(
    run,
    {
      ok: false,
      exitCode: rollback.ok ? ExitCode.FAILED : ExitCode.HUMAN_NEEDED,
      message:
        `fleet rollout of ${state.releaseId} ${describeFailurePoint(failure)} (${failure.reason}); ` +
        `${parts.join('; ')}${incidentId ? `; incident ${incidentId}` : ''}`,
    },
    { stoppedInWave: failure.stoppedInWave, violations: failure.violations, ...(incidentId ? { incidentId } : {}) },
  );
}

async function finishRollout(
  run: FleetRun,
  outcome: { ok: boolean; exitCode: ExitCodeValue; message: string },
  extra: Partial<FleetRolloutResult> = {},
): Promise<FleetRolloutResult> {
  const { state } = run;
  state.outcome = outcome.message;
  await saveRunState(run);
  await run.steps.record('deploy:finish', outcome.ok ? 'succeeded' : 'failed', outcome.message, {
    releaseId: state.releaseId,
    hosts: state.hosts.map((h) => ({ name: h.name, phase: h.phase, releaseId: h.releaseId })),
  });
  return {
    ...outcome,
    isDryRun: false,
    deployId: state.deployId,
    releaseId: state.releaseId,
    hosts: state.hosts,
    timeline: run.steps.timeline,
    ...extra,
  };
}

async function notify(run: FleetRun, event: 'start' | 'success' | 'failure', message?: string): Promise<void> {
  await run.o.notifier
    ?.send({ event, release: run.state.releaseId, deployId: run.state.deployId, ...(message ? { message } : {}) })
    .catch((error: unknown) => run.logger.warn('notification failed', { error }));
}

/**
 * The fleet's monitor after a rollout whose every wave held: all clear keeps the result (exit 0); a violation rolls
 * the fleet back as during a wave (exit 1, or 4); an interrupted or superseded monitor is exit 3 (the release serves
 * unwatched).
 */
export async function watchAfterRollout(run: FleetRun, rollout: FleetRolloutResult): Promise<FleetRolloutResult> {
  let stopped: FleetRolloutResult | undefined;
  const lastWave = run.fleet.plan.waves.length;
  const watch = await watchFleet(run, async ({ reason, violations }) => {
    stopped = await stopAndRollBack(run, { reason, violations, stoppedInWave: lastWave, isMonitor: true });
    return { isRolledBack: stopped.exitCode === ExitCode.FAILED, message: stopped.message };
  });
  if (stopped) return { ...stopped, monitor: watch };
  const exitCode = watch.exitCode as ExitCodeValue;
  return {
    ...rollout,
    ok: exitCode === ExitCode.OK,
    exitCode,
    message: `${rollout.message}; monitor ${watch.outcome}: ${watch.message}`,
    monitor: watch,
  };
}
