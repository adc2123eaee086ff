// `dhash rollback --env <fleet>` (no backup): every host whose current release is not its previous one switched back
// to it by roll-back-fleet.ts (the live database kept), under the environment's one lock, with one incident.
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import type { FleetHostConfig } from '../config/environments-schema.js';
import { loadQualityGates, type ResolvedQualityGates } from '../config/quality-gates.js';
import { createDeployId } from '../core/release-naming.js';
import { createStepRunner } from '../deploy/step-runner.js';
import { supersedeMonitor } from '../monitor/supersede-monitor.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import { createFleetHostOps, type FleetHostOps } from '../target/ssh/host-ops.js';
import { resolveFleetConfig } from './fleet-config.js';
import {
  formatManualFleetPlan,
  MANUAL_FLEET_STRATEGY,
  planManualFleetRollback,
  type ManualHostPlan,
} from './fleet-manual-plan.js';
import {
  finishManualFleetRollback,
  prepareManualRunState,
  type ManualFleetRollbackResult,
} from './fleet-manual-finish.js';
import type { FleetRolloutOptions, FleetRun } from './fleet-run.js';
import { createFleetSignalSource, type FleetSignalSource } from './fleet-signals.js';
import { readFleetState } from './fleet-state.js';

export type { ManualFleetRollbackResult } from './fleet-manual-finish.js';

export interface ManualFleetRollbackOptions extends Pick<
  FleetRolloutOptions,
  'environment' | 'clock' | 'logger' | 'notifier' | 'redact' | 'processEnv' | 'signal' | 'onProgress'
> {
  isDryRun: boolean;
  /** Skips only the interactive confirmation; every check still runs. */
  force: boolean;
  /** Asks the operator; undefined when there is no terminal (then only --force may proceed). */
  confirm?: (question: string) => Promise<boolean>;
  /** Injected by tests (an interface the project owns); default: the ssh host ops of each host. */
  createHostOps?: (host: FleetHostConfig) => FleetHostOps;
  /** Injected by tests; default: health over HTTP from the controller. */
  signals?: FleetSignalSource;
  /** Injected by tests; default: quality-gates-config.json (the fleet run carries them; the rollback judges none). */
  gates?: ResolvedQualityGates;
}

/**
 * Refusals (config, confirmation, lock, a monitor that would not stop) throw a DhashError before any host changes;
 * after the lock it ends in a result: exit 0 when every host runs its previous release, verified healthy from the
 * controller, else 4 naming each host that does not.
 */
export async function rollBackFleetManually(o: ManualFleetRollbackOptions): Promise<ManualFleetRollbackResult> {
  const { environment, clock } = o;
  const say = o.onProgress ?? (() => {});
  const fleet = resolveFleetConfig(environment);
  const createOps = o.createHostOps ?? ((host) => createFleetHostOps(environment, host, o));
  const ops = fleet.target.hosts.map((host) => createOps(host));
  const plan = await planManualFleetRollback(ops, await readFleetState(environment));
  say(describePlan(environment.name, plan));
  if (o.isDryRun) {
    const isBlocked = plan.some((p) => !['roll-back', 'already-there'].includes(p.action));
    return {
      ok: !isBlocked,
      exitCode: isBlocked ? ExitCode.HUMAN_NEEDED : ExitCode.OK,
      isDryRun: true,
      message: `dry run: nothing was changed${isBlocked ? '; some hosts could not be rolled back' : ''}`,
      plan,
      hosts: [],
    };
  }
  if (!o.force) {
    if (!o.confirm) throw createError('ENOCONFIRMATION', { action: 'roll back', env: environment.name });
    const moving = plan.filter((p) => p.action === 'roll-back').map((p) => `${p.name} ${p.detail}`);
    const question =
      `Roll the fleet ${environment.name} back (${moving.join(', ') || 'no host to move; health verified'})? ` +
      'Type yes: ';
    if (!(await o.confirm(question))) throw createError('EDECLINED', { action: 'rollback', env: environment.name });
  }
  const gates = o.gates ?? (await loadQualityGates(environment.paths.root, environment.name));
  const lock = await acquireEnvironmentLock(environment, {
    purpose: 'manual rollback of the fleet',
    clock,
    logger: o.logger,
  });
  try {
    const deployId = createDeployId(environment.name, clock.now());
    // The fleet's monitor stops first so it never acts on hosts this rollback moves (it records itself superseded).
    await supersedeMonitor(environment, { byDeployId: deployId, clock, logger: o.logger });
    const state = await readFleetState(environment);
    // Planned again under the lock: a rollout that finished meanwhile may have moved a host.
    const lockedPlan = await planManualFleetRollback(ops, state);
    if (describePlan(environment.name, lockedPlan) !== describePlan(environment.name, plan))
      say(`The fleet changed before the lock was taken; now:\n${describePlan(environment.name, lockedPlan)}`);
    const run: FleetRun = {
      o: { ...o, isDryRun: false },
      environment,
      clock,
      logger: o.logger,
      fleet,
      gates,
      ops: new Map(ops.map((h) => [h.host.name, h])),
      state: prepareManualRunState({ environment, state, plan: lockedPlan, fleet, deployId, nowMs: clock.now() }),
      steps: createStepRunner({ environment, deployId, kind: 'rollback', clock, logger: o.logger, onProgress: say }),
      // Nothing is staged by a rollback: roll-back-fleet.ts reads only the releaseId, for a host with nothing before
      // it, and such hosts are set aside by the plan before it runs.
      artifact: { path: '', sha256: '', releaseId: state?.releaseId ?? '(unknown)' },
      strategy: MANUAL_FLEET_STRATEGY,
      signals: o.signals ?? createFleetSignalSource(environment, fleet, { clock }),
      appliedMigrations: [],
      serviceEnv: {},
      say,
    };
    return await finishManualFleetRollback(run, lockedPlan, deployId);
  } finally {
    await lock.release();
  }
}

function describePlan(envName: string, plan: readonly ManualHostPlan[]): string {
  return [
    `Plan: manual rollback of the fleet ${envName} (${MANUAL_FLEET_STRATEGY.strategy}, the live database kept):`,
    ...formatManualFleetPlan(plan),
  ].join('\n');
}
