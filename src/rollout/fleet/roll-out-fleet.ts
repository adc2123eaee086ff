// `dhash deploy` of an ssh fleet: preflight of every host → one lock → backup once → migrate once → per wave:
// update the wave's hosts, bake and judge the gates → next wave; a violation rolls back every updated host,
// opens one incident.
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { loadQualityGates } from '../config/quality-gates.js';
import { formatRollbackStrategy } from '../core/rollback-strategy.js';
import { createDeployId } from '../core/release-naming.js';
import { createPreflightRefusal } from '../deploy/deploy-release.js';
import { formatPreflight, type PreflightCheck } from '../deploy/preflight.js';
import { checkReleaseSource } from '../deploy/release-check.js';
import { createStepRunner } from '../deploy/step-runner.js';
import { acquireMonitorLock, type MonitorLock } from '../monitor/monitor-lock.js';
import { supersedeMonitor } from '../monitor/supersede-monitor.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import { createFleetHostOps } from '../target/ssh/host-ops.js';
import { createFleetDatabase } from './create-fleet-database.js';
import { resolveFleetConfig } from './fleet-config.js';
import type { FleetDatabase } from './fleet-database.js';
import { formatFleetPlan } from './fleet-plan.js';
import { runFleetPreflight, type FleetPreflightReport } from './fleet-preflight.js';
import { resolveFleetRelease, type FleetRelease } from './fleet-release.js';
import type { FleetRolloutOptions, FleetRolloutResult, FleetRun } from './fleet-run.js';
import { createFleetSignalSource } from './fleet-signals.js';
import type { FleetStateFile } from './fleet-state.js';
import { chooseFleetRollbackStrategy } from './fleet-strategy.js';
import { runRollout, watchAfterRollout } from './run-rollout.js';

/**
 * Refusals (config, preflight, lock) throw a DhashError; anything after the lock ends in a result with its exit code.
 * A rollout whose every wave held is then watched for the monitor window (unless `shouldWatch` is false).
 */
export async function rollOutFleet(o: FleetRolloutOptions): Promise<FleetRolloutResult> {
  const { result, watching } = await rollOutWaves(o);
  if (!watching) return result;
  try {
    return await watchAfterRollout(watching.run, result);
  } finally {
    await watching.monitorLock.release();
  }
}

interface WavesOutcome {
  result: FleetRolloutResult;
  /** Set when the monitor is to watch: the run, and the monitor lock taken while the rollout's lock was held. */
  watching?: { run: FleetRun; monitorLock: MonitorLock };
}

async function rollOutWaves(o: FleetRolloutOptions): Promise<WavesOutcome> {
  const { environment, clock } = o;
  const progress = o.onProgress ?? (() => {});
  const fleet = resolveFleetConfig(environment);
  const gates = o.gates ?? (await loadQualityGates(environment.paths.root, environment.name));
  const createOps = o.createHostOps ?? ((host) => createFleetHostOps(environment, host, o));
  const ops = fleet.target.hosts.map((host) => createOps(host));
  const signals = o.signals ?? createFleetSignalSource(environment, fleet, { clock });
  const resolved = await checkReleaseSource(() =>
    resolveFleetRelease({ projectRoot: environment.paths.root, release: o.release, clock, isPlanOnly: o.isDryRun }),
  );
  const release: FleetRelease | undefined = resolved.source;
  const releaseCheck: PreflightCheck = resolved.check;
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
        result: {
          ok: preflight.ok,
          exitCode,
          isDryRun: true,
          releaseId,
          message: `dry run: nothing was changed${preflight.ok ? '' : '; the rollout would be refused'}`,
          hosts: [],
          timeline: [],
        },
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
      // The monitor of the previous rollout stops before anything changes, so it never acts on this release.
      await supersedeMonitor(environment, { byDeployId: deployId, clock, logger: o.logger });
      const result = await runRollout(run, fleetDatabase);
      if (!result.ok || o.shouldWatch === false) return { result };
      // Taken before the rollout's lock is let go: no other rollout can slip in between the last wave and the watch.
      const monitorLock = await acquireMonitorLock(environment, { nowMs: clock.now(), logger: o.logger });
      return { result, watching: { run, monitorLock } };
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
