// A manual fleet rollback once it holds the lock: the fleet state it records into, roll-back-fleet.ts for the hosts to
// move, the health of the hosts already back verified from the controller, one incident, the result.
import type { ResolvedEnvironment } from '../config/environments.js';
import { ExitCode, type ExitCodeValue } from '../../lib/exit-codes.js';
import { formatRollbackStrategy } from '../core/rollback-strategy.js';
import { createIncident, type IncidentInput } from '../incident/create-incident.js';
import type { FleetConfig } from './fleet-config.js';
import { MANUAL_FLEET_STRATEGY, type ManualHostPlan } from './fleet-manual-plan.js';
import { runHostStep, saveRunState, setHostPhase, type FleetRun } from './fleet-run.js';
import type { FleetHostRecord, FleetStateFile } from './fleet-state.js';
import { rollBackFleet, verifyHostHealthy, type HostRollback } from './roll-back-fleet.js';

export interface ManualFleetRollbackResult {
  ok: boolean;
  exitCode: ExitCodeValue;
  isDryRun: boolean;
  deployId?: string;
  message: string;
  plan: ManualHostPlan[];
  /** Every host's outcome, in the fleet's order (dry run: none). */
  hosts: HostRollback[];
  incidentId?: string;
}

/**
 * The controller's fleet state with this rollback's hosts marked: the last rollout's record is updated in place (so
 * `dhash status` shows that rollout rolled back), or a new record when this controller never rolled the fleet out.
 */
export function prepareManualRunState(input: {
  environment: ResolvedEnvironment;
  state: FleetStateFile | undefined;
  plan: readonly ManualHostPlan[];
  fleet: FleetConfig;
  deployId: string;
  nowMs: number;
}): FleetStateFile {
  const { plan, fleet } = input;
  const now = new Date(input.nowMs).toISOString();
  const state: FleetStateFile = input.state
    ? structuredClone(input.state)
    : {
        formatVersion: 1,
        env: input.environment.name,
        deployId: input.deployId,
        releaseId: [...new Set(plan.map((p) => p.currentReleaseId).filter(Boolean))].join(', ') || '(unknown)',
        startedAt: now,
        updatedAt: now,
        status: 'rolling-back',
        bakeMs: fleet.plan.bakeMs,
        maxUnavailable: fleet.plan.maxUnavailable,
        waves: fleet.plan.waves.map((w) => ({ number: w.number, hosts: w.hosts })),
        hosts: [],
        rollbackStrategy: '',
      };
  // A rollback that moves no host (all already back) leaves the last rollout's status as it was.
  if (plan.some((p) => p.action === 'roll-back')) state.status = 'rolling-back';
  state.rollbackStrategy = formatRollbackStrategy(MANUAL_FLEET_STRATEGY);
  if (state.monitor && !state.monitor.outcome) Object.assign(state.monitor, { outcome: 'superseded', endedAt: now });
  for (const record of state.hosts) record.isTouched = false;
  for (const p of plan) {
    let record = state.hosts.find((h) => h.name === p.name);
    if (!record) {
      const wave = fleet.plan.waves.find((w) => w.hosts.includes(p.name))?.number ?? 0;
      record = { name: p.name, wave, phase: 'waiting', isTouched: false };
      state.hosts.push(record);
    }
    applyPlan(record, p);
  }
  return state;
}

function applyPlan(record: FleetHostRecord, p: ManualHostPlan): void {
  if (p.currentReleaseId) record.releaseId = p.currentReleaseId;
  if (p.targetReleaseId) record.previousReleaseId = p.targetReleaseId;
  record.detail = `manual rollback: ${p.detail}`;
  // Only the hosts to move are "touched": roll-back-fleet.ts returns exactly those.
  record.isTouched = p.action === 'roll-back';
  if (p.action === 'unreachable') record.phase = 'unreachable';
  else if (p.action === 'no-previous' || p.action === 'not-staged') record.phase = 'rollback-failed';
}

/** Never throws for a host: every host's outcome is in the result. */
export async function finishManualFleetRollback(
  run: FleetRun,
  plan: readonly ManualHostPlan[],
  deployId: string,
): Promise<ManualFleetRollbackResult> {
  const { state, steps } = run;
  const moving = plan.filter((p) => p.action === 'roll-back');
  await steps.begin('rollback:begin', `manual rollback of the fleet: ${moving.length} host(s) to move`, {
    isFleet: true,
    strategy: MANUAL_FLEET_STRATEGY.strategy,
    hosts: plan.map((p) => ({ name: p.name, action: p.action, from: p.currentReleaseId, to: p.targetReleaseId })),
  });
  await saveRunState(run);
  const statusBefore = state.status;
  if (moving.length)
    await notify(
      run,
      deployId,
      'rollback-start',
      `Manual rollback of the fleet ${run.environment.name}: ` +
        `${moving.map((p) => `${p.name} ${p.detail}`).join(', ') || 'no host to move'}.`,
    );
  const rolled = await rollBackFleet(run);
  const outcomes = new Map<string, HostRollback>(rolled.hosts.map((h) => [h.host, h]));
  for (const p of plan) {
    if (p.action === 'already-there') outcomes.set(p.name, await verifyAlreadyBack(run, p));
    else if (p.action !== 'roll-back') {
      await steps.record('fleet:rollback-host', 'failed', `${p.name}: ${p.detail}`, { host: p.name });
      outcomes.set(p.name, { host: p.name, ok: false, detail: `NOT rolled back: ${p.detail}`, checks: [] });
    }
  }
  const hosts = plan.map((p) => outcomes.get(p.name)!);
  const failed = hosts.filter((h) => !h.ok);
  const isMoving = (h: HostRollback) => moving.some((p) => p.name === h.host);
  const message = [
    describeHosts(
      'rolled back',
      hosts.filter((h) => h.ok && isMoving(h)),
      'each verified healthy',
    ),
    describeHosts(
      'already back:',
      hosts.filter((h) => h.ok && !isMoving(h)),
      'verified healthy',
      'on',
    ),
    ...failed.map((h) => `${h.host} ${h.detail}`),
    failed.length ? `a human must act on ${failed.map((h) => h.host).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  // Nothing moved and nothing failed: the record of the last rollout stays as it was, and nobody is paged for it.
  const isNoop = moving.length === 0 && failed.length === 0;
  let incidentId: string | undefined;
  if (isNoop) state.status = statusBefore;
  else {
    state.status = failed.length ? 'rollback-failed' : 'rolled-back';
    // A critical incident (a host left for a human) sends rollback-failure itself; a warning one sends nothing.
    if (failed.length === 0)
      await notify(
        run,
        deployId,
        'rollback-success',
        `Manual rollback of the fleet ${run.environment.name}: ${message}.`,
      );
    incidentId = await openManualIncident(run, deployId, hosts, message);
    state.outcome = `manual rollback ${deployId}: ${message}${incidentId ? `; incident ${incidentId}` : ''}`;
    if (incidentId) state.incidentId = incidentId;
  }
  await saveRunState(run);
  await steps.record('rollback:finish', failed.length ? 'failed' : 'succeeded', message, {
    hosts: hosts.map((h) => ({ name: h.host, ok: h.ok, releaseId: h.releaseId })),
  });
  return {
    ok: failed.length === 0,
    exitCode: failed.length ? ExitCode.HUMAN_NEEDED : ExitCode.OK,
    isDryRun: false,
    deployId,
    message: `${message}${incidentId ? `; incident ${incidentId}` : ''}`,
    plan: [...plan],
    hosts,
    ...(incidentId ? { incidentId } : {}),
  };
}

/** `rolled back web-1, web-2 to A (each verified healthy)`, or '' for no host. */
function describeHosts(verb: string, hosts: readonly HostRollback[], verified: string, preposition = 'to'): string {
  if (hosts.length === 0) return '';
  const releases = [...new Set(hosts.map((h) => h.releaseId))].join(', ');
  return `${verb} ${hosts.map((h) => h.host).join(', ')} ${preposition} ${releases} (${verified})`;
}

/** A host already on its previous release is not restarted; "back" still means healthy from the controller. */
async function verifyAlreadyBack(run: FleetRun, p: ManualHostPlan): Promise<HostRollback> {
  const releaseId = p.targetReleaseId!;
  try {
    const { checks } = await runHostStep(
      run,
      'fleet:verify',
      p.name,
      () => verifyHostHealthy(run, p.name),
      (h) => `${h.checks.filter((c) => c.ok).length} OK health check(s) from the controller`,
    );
    return { host: p.name, ok: true, releaseId, detail: `already on ${releaseId}, verified healthy`, checks };
  } catch (error) {
    const detail = `runs ${releaseId} but is NOT healthy (${(error as Error).message})`;
    await setHostPhase(run, p.name, 'failed', { detail });
    const checks = (error as { health?: { checks: HostRollback['checks'] } }).health?.checks ?? [];
    return { host: p.name, ok: false, releaseId, detail, checks };
  }
}

async function notify(
  run: FleetRun,
  deployId: string,
  event: 'rollback-start' | 'rollback-success',
  message: string,
): Promise<void> {
  await run.o.notifier
    ?.send({ event, deployId, release: run.state.releaseId, message })
    .catch((error: unknown) => run.logger.warn('notification failed', { error }));
}

/** The one incident (it sends the one closing notification); undefined when it could not be written. */
async function openManualIncident(
  run: FleetRun,
  deployId: string,
  hosts: readonly HostRollback[],
  outcome: string,
): Promise<string | undefined> {
  const failed = hosts.filter((h) => !h.ok).map((h) => h.host);
  const env = run.environment.name;
  const input: IncidentInput = {
    env,
    severity: failed.length ? 'critical' : 'warning',
    title: `Manual rollback of the fleet ${env}${failed.length ? `: FAILED on ${failed.join(', ')}` : ''}`,
    deployId,
    releaseId: run.state.releaseId,
    trigger: {
      description: [
        `An operator rolled the fleet back by hand (\`dhash rollback --env ${env}\`).`,
        `Hosts: ${hosts.map((h) => `${h.host}: ${h.ok ? 'OK' : 'NOT OK'}, ${h.detail}`).join('; ')}.`,
      ].join('\n'),
    },
    timeline: run.steps.timeline,
    verification: {
      healthChecks: hosts.flatMap((h) =>
        h.checks.map((c) => ({ ok: c.ok, time: c.at, latencyMs: c.latencyMs, detail: h.host })),
      ),
    },
    rollback: { strategy: MANUAL_FLEET_STRATEGY.strategy, strategyReason: MANUAL_FLEET_STRATEGY.reason, outcome },
    notifyEvent: failed.length ? 'rollback-failure' : 'rollback-success',
  };
  try {
    const { id } = await createIncident(input, {
      projectRoot: run.environment.paths.root,
      clock: run.clock,
      redact: run.o.redact,
      ...(run.o.notifier ? { notifier: run.o.notifier } : {}),
    });
    return id;
  } catch (error) {
    run.logger.error('could not create the incident record', { step: 'rollback:incident', error });
    return undefined;
  }
}
