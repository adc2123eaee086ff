// The one incident of a stopped fleet rollout: hosts, waves, gate values and what was rolled back, with its one
// notification (rollback-success, or rollback-failure when a host is left for a human).
import { formatDurationMs } from '../core/duration.js';
import { createIncident, type IncidentInput } from '../incident/create-incident.js';
import { describeFleetGate, getGateLabel, type FleetGateResult } from './fleet-gates.js';
import type { FleetRun } from './fleet-run.js';
import type { FleetRollback } from './roll-back-fleet.js';

export interface FleetFailure {
  reason: string;
  /** The wave in progress; after the last wave, the last one (with `isMonitor`). */
  stoppedInWave: number;
  violations: FleetGateResult[];
  /** Found by the T+60 monitor after every wave held, not during a wave. */
  isMonitor?: boolean;
}

/** `stopped in wave 2` or `rolled back by its monitor after the last wave`. */
export function describeFailurePoint(failure: FleetFailure): string {
  return failure.isMonitor
    ? 'rolled back by its monitor after the last wave'
    : `stopped in wave ${failure.stoppedInWave}`;
}

/** Writes incidents/<id>.json and .md, then sends its one notification; returns the id (undefined if not written). */
export async function openFleetIncident(
  run: FleetRun,
  failure: FleetFailure,
  rollback: FleetRollback,
): Promise<string | undefined> {
  const { environment } = run;
  try {
    const { id } = await createIncident(buildFleetIncident(run, failure, rollback), {
      projectRoot: environment.paths.root,
      clock: run.clock,
      redact: run.o.redact,
      notifier: run.o.notifier,
    });
    return id;
  } catch (error) {
    run.logger.error('could not create the fleet incident record', { step: 'fleet:incident', error });
    return undefined;
  }
}

export function buildFleetIncident(run: FleetRun, failure: FleetFailure, rollback: FleetRollback): IncidentInput {
  const { state } = run;
  const trigger = failure.violations[0];
  const rolledBack = rollback.hosts.filter((h) => h.ok).map((h) => h.host);
  const never = state.hosts.filter((h) => !h.isTouched).map((h) => h.name);
  const outcome = [
    rolledBack.length ? `rolled back ${rolledBack.join(', ')}, each verified healthy` : '',
    rollback.hosts.length === 0 ? 'no host needed a rollback' : '',
    ...rollback.failed.map((h) => `${h.host} NOT rolled back: ${h.detail}`),
    never.length ? `${never.join(', ')} never received ${state.releaseId}` : '',
  ].filter(Boolean);
  const waves = state.waves.map((w) => {
    const status =
      failure.isMonitor || w.number < failure.stoppedInWave
        ? 'held'
        : w.number === failure.stoppedInWave
          ? 'STOPPED'
          : 'not started';
    return `wave ${w.number} (${w.hosts.join(', ')}): ${status}`;
  });
  const hosts = state.hosts.map(
    (h) => `${h.name}: ${h.phase}, serving ${h.releaseId ?? 'unknown'} (before: ${h.previousReleaseId ?? 'nothing'})`,
  );
  const gates = failure.violations.map(describeFleetGate);
  return {
    env: environment(run),
    severity: 'critical',
    title:
      `Fleet rollout of ${state.releaseId} to ${environment(run)} ${describeFailurePoint(failure)}` +
      (rollback.ok ? '; rolled back' : `; rollback FAILED on ${rollback.failed.map((h) => h.host).join(', ')}`),
    deployId: state.deployId,
    releaseId: state.releaseId,
    trigger: {
      ...(trigger
        ? {
            gate: getGateLabel(trigger),
            observed: trigger.value,
            threshold: trigger.threshold,
            window: `bake of ${formatDurationMs(state.bakeMs)}`,
          }
        : {}),
      description: [
        `Stopped: ${failure.reason}.`,
        ...(gates.length ? [`Gates: ${gates.join('; ')}.`] : []),
        `Waves: ${waves.join('; ')}.`,
        `Hosts: ${hosts.join('; ')}.`,
      ].join('\n'),
    },
    timeline: run.steps.timeline,
    ...(state.backupFile ? { backup: { file: state.backupFile, verified: true } } : {}),
    verification: {
      healthChecks: rollback.hosts.flatMap((h) =>
        h.checks.map((c) => ({
          ok: c.ok,
          time: c.at,
          ...(c.status === undefined ? {} : { httpStatus: c.status }),
          latencyMs: c.latencyMs,
          detail: h.host,
          ...(c.error ? { error: c.error } : {}),
        })),
      ),
    },
    rollback: {
      strategy: run.strategy.strategy,
      strategyReason: run.strategy.reason,
      outcome: outcome.join('; '),
    },
    notifyEvent: rollback.ok ? 'rollback-success' : 'rollback-failure',
  };
}

const environment = (run: FleetRun) => run.environment.name;
