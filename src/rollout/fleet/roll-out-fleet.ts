// `dhash deploy` of an ssh fleet: preflight of every host → one lock → backup once → migrate once → per wave: update
// the wave's hosts, bake and judge the gates → next wave; a violation rolls back every updated host, opens one incident.
import { createError, isDhashError } from '../../lib/errors.js';
import { ExitCode, type ExitCodeValue } from '../../lib/exit-codes.js';
import { loadQualityGates } from '../config/quality-gates.js';
import { formatRollbackStrategy } from '../core/rollback-strategy.js';
import { createDeployId } from '../core/release-naming.js';
import { createPreflightRefusal } from '../deploy/deploy-release.js';
import { formatPreflight, type PreflightCheck } from '../deploy/preflight.js';
import { createStepRunner } from '../deploy/step-runner.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import { createFleetHostOps } from '../target/ssh/host-ops.js';
import { activateWave } from './activate-wave.js';
import { bakeWave } from './bake-wave.js';
import { createFleetDatabase } from './create-fleet-database.js';
import { resolveFleetConfig } from './fleet-config.js';
import type { FleetDatabase } from './fleet-database.js';
import { openFleetIncident, type FleetFailure } from './fleet-incident.js';
import { formatFleetPlan } from './fleet-plan.js';
import { runFleetPreflight, type FleetPreflightReport } from './fleet-preflight.js';
import { resolveFleetRelease, type FleetRelease } from './fleet-release.js';
import type { FleetRolloutOptions, FleetRolloutResult, FleetRun } from './fleet-run.js';
import { saveRunState } from './fleet-run.js';
import { createFleetSignalSource } from './fleet-signals.js';
import type { FleetStateFile } from './fleet-state.js';
import { chooseFleetRollbackStrategy } from './fleet-strategy.js';
import { rollBackFleet } from './roll-back-fleet.js';

/** Refusals (config, preflight, lock) throw a DhashError; anything after the lock ends in a result with its exit code. */
export async function rollOutFleet(o: FleetRolloutOptions): Promise<FleetRolloutResult> {
  const { environment, clock } = o;
  const progress = o.onProgress ?? (() => {});
  const fleet = resolveFleetConfig(environment);
  const gates = o.gates ?? (await loadQualityGates(environment.paths.root, environment.name));
  const createOps = o.createHostOps ?? ((host) => createFleetHostOps(environment, host, o));
  const ops = fleet.target.hosts.map((host) => createOps(host));
  const signals = o.signals ?? createFleetSignalSource(environment, fleet, { clock });
  let release: FleetRelease | undefined;
  let releaseCheck: PreflightCheck;
  try {
    release = await resolveFleetRelease({
      projectRoot: environment.paths.root,
      release: o.release,
      clock,
      isPlanOnly: o.isDryRun,
    });
    releaseCheck = { name: 'preflight:release', ok: true, detail: release.checksumDetail };
  } catch (error) {
    if (!isDhashError(error)) throw error;
    const exitCode = error.exitCode === ExitCode.REFUSED ? 3 : 2;
    releaseCheck = { name: 'preflight:release', ok: false, exitCode, detail: `${error.message} ${error.details}` };
  }
  let database: FleetDatabase | undefined;
  try {
    database =
      o.database ??
      (await createFleetDatabase(environment, fleet, { release, processEnv: o.processEnv, clock, logger: o.logger }));
    const preflight = await runFleetPreflight({ ...o, fleet, ops, database, gates, signals, releaseCheck });
    const strategy = chooseFleetRollbackStrategy({
      hasPreviousRelease: preflight.hosts.some((h) => h.status?.currentReleaseId !== undefined),
      migrations: preflight.pending?.pending ?? [],
    });
    const releaseId = release?.manifest.releaseId ?? '(unresolved)';
    progress(`Pre-rollout validation of ${environment.name}:\n${formatPreflight(preflight)}`);
    progress(
      `Plan:\n${formatFleetPlan({
        envName: environment.name,
        releaseId,
        fleet,
        preflight,
        databaseDescription: database?.description ?? `the database of ${fleet.databaseUrlEnv}`,
        strategy,
      })}`,
    );
    if (o.isDryRun) {
      const exitCode = preflight.ok ? ExitCode.OK : getPreflightExitCode(preflight);
      return {
        ok: preflight.ok,
        exitCode,
        isDryRun: true,
        releaseId,
        message: `dry run: nothing was changed${preflight.ok ? '' : '; the rollout would be refused'}`,
        hosts: [],
        timeline: [],
      };
    }
    if (!preflight.ok || !release?.artifact || !database) throw createPreflightRefusal(environment.name, preflight);
    const fleetDatabase = database;
    if (o.signal?.aborted)
      throw createError('EINTERRUPTED', {
        env: environment.name,
        reason: (o.signal.reason as Error | undefined)?.message ?? 'aborted',
        serving: 'every host as before the rollout',
      });
    const lock = await acquireEnvironmentLock(environment, {
      purpose: `fleet rollout of ${releaseId}`,
      clock,
      logger: o.logger,
    });
    try {
      const deployId = createDeployId(environment.name, clock.now());
      const run: FleetRun = {
        o,
        environment,
        clock,
        logger: o.logger,
        fleet,
        gates,
        ops: new Map(ops.map((h) => [h.host.name, h])),
        state: createInitialState(o, fleet.plan, preflight, { deployId, releaseId, strategy }),
        steps: createStepRunner({
          environment,
          deployId,
          kind: 'deploy',
          clock,
          logger: o.logger,
          onProgress: progress,
        }),
        artifact: release.artifact,
        strategy,
        signals,
        appliedMigrations: [],
        serviceEnv: preflight.serviceEnv ?? {},
        say: progress,
      };
      return await runRollout(run, fleetDatabase);
    } finally {
      await lock.release();
    }
  } finally {
    await database?.close().catch((error: unknown) => o.logger.warn('could not close the database', { error }));
    await release?.cleanup();
  }
}

function getPreflightExitCode(report: FleetPreflightReport): 2 | 3 {
  return report.checks.some((c) => !c.ok && c.exitCode === 3) ? 3 : 2;
}

function createInitialState(
  o: FleetRolloutOptions,
  plan: FleetRun['fleet']['plan'],
  preflight: FleetPreflightReport,
  ids: { deployId: string; releaseId: string; strategy: FleetRun['strategy'] },
): FleetStateFile {
  const now = new Date(o.clock.now()).toISOString();
  return {
    formatVersion: 1,
    env: o.environment.name,
    deployId: ids.deployId,
    releaseId: ids.releaseId,
    startedAt: now,
    updatedAt: now,
    status: 'running',
    bakeMs: plan.bakeMs,
    maxUnavailable: plan.maxUnavailable,
    waves: plan.waves.map((w) => ({ number: w.number, hosts: w.hosts })),
    hosts: plan.waves.flatMap((w) =>
      w.hosts.map((name) => {
        const check = preflight.hosts.find((h) => h.name === name);
        const current = check?.status?.currentReleaseId;
        return {
          name,
          wave: w.number,
          phase: check?.isUnreachable ? ('unreachable' as const) : ('waiting' as const),
          ...(current ? { previousReleaseId: current, releaseId: current } : {}),
          isTouched: false,
          ...(check?.isUnreachable ? { detail: 'unreachable at preflight' } : {}),
        };
      }),
    ),
    rollbackStrategy: formatRollbackStrategy(ids.strategy),
  };
}

/** Under the lock: backup, migrate, then the waves; every failure after the first change ends in a result. */
async function runRollout(run: FleetRun, database: FleetDatabase): Promise<FleetRolloutResult> {
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
    const message = `fleet rollout of ${state.releaseId} failed before wave 1 (${(error as Error).message}); no host was changed`;
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
  const active = state.hosts.filter((h) => h.phase === 'active').map((h) => h.name);
  const unreachable = state.hosts.filter((h) => h.phase === 'unreachable');
  state.status = 'succeeded';
  const missed = unreachable.length
    ? `; ${unreachable.map((h) => `${h.name} unreachable (${h.detail ?? 'no answer'})`).join('; ')}: ` +
      `within maxUnavailable ${state.maxUnavailable}, run the rollout again once ${unreachable.length === 1 ? 'it is' : 'they are'} back`
    : '';
  await notify(run, 'success', `${state.releaseId} serves on ${active.join(', ')}${missed}`);
  return finishRollout(run, {
    ok: true,
    exitCode: ExitCode.OK,
    message: `rolled out ${state.releaseId} to ${active.length} of ${state.hosts.length} host(s) (${active.join(', ')})${missed}`,
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
        `fleet rollout of ${state.releaseId} stopped in wave ${failure.stoppedInWave} (${failure.reason}); ` +
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
