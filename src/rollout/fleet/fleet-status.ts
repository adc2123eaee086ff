// `dhash status` of a fleet: every host's release as the host itself reports it over ssh, and the rollout's wave in
// progress from the controller's fleet state.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { FleetHostConfig } from '../config/environments-schema.js';
import { formatDurationMs } from '../core/duration.js';
import type { FleetHostOps, HostStatus } from '../target/ssh/host-ops.js';
import { resolveFleetConfig } from './fleet-config.js';
import { readFleetState, type FleetStateFile } from './fleet-state.js';

export interface FleetStatusInput {
  environment: ResolvedEnvironment;
  createHostOps: (host: FleetHostConfig) => FleetHostOps;
  nowMs: number;
}

/** The status lines; a host that cannot be asked is shown with why, never hidden. Never throws for a host. */
export async function describeFleetStatus(input: FleetStatusInput): Promise<string[]> {
  const { environment } = input;
  const fleet = resolveFleetConfig(environment);
  const { plan } = fleet;
  const state = await readFleetState(environment);
  const lines = [
    `Environment ${environment.name}: a fleet of ${plan.hostCount} host(s) over ssh ` +
      `(waves ${JSON.stringify(fleet.target.waves)}, bake ${formatDurationMs(plan.bakeMs)}, ` +
      `maxUnavailable ${plan.maxUnavailable})`,
    ...describeRollout(state, input.nowMs),
    '',
    'Hosts (as each host reports itself over ssh):',
  ];
  const answers = await Promise.all(
    fleet.target.hosts.map(async (host) => {
      try {
        return { host, status: await input.createHostOps(host).status() };
      } catch (error) {
        return { host, error: error as Error };
      }
    }),
  );
  const width = Math.max(...fleet.target.hosts.map((h) => h.name.length));
  for (const answer of answers) {
    const record = state?.hosts.find((h) => h.name === answer.host.name);
    const rollout = record ? `  [rollout: wave ${record.wave}, ${record.phase}]` : '';
    const name = answer.host.name.padEnd(width);
    lines.push(
      'status' in answer && answer.status
        ? `  ${name}  ${describeHost(answer.status)}${rollout}`
        : `  ${name}  NOT REACHED: ${(answer as { error: Error }).error.message}${rollout}`,
    );
  }
  return lines;
}

function describeRollout(state: FleetStateFile | undefined, nowMs: number): string[] {
  if (!state) return ['Rollout: none recorded on this machine yet.'];
  const lines = [
    `Rollout ${state.deployId} of ${state.releaseId}: ${state.status} ` +
      `(started ${state.startedAt}, last change ${state.updatedAt})`,
  ];
  if (state.wave) {
    const bakeLeft =
      state.wave.phase === 'baking' && state.wave.bakeEndsAt
        ? `, bake ends ${state.wave.bakeEndsAt} ` +
          `(${formatDurationMs(Math.max(0, Date.parse(state.wave.bakeEndsAt) - nowMs))} left)`
        : '';
    const label = state.status === 'running' || state.status === 'rolling-back' ? 'wave in progress' : 'last wave';
    const hosts = state.waves.find((w) => w.number === state.wave!.number)?.hosts.join(', ') ?? '';
    lines.push(`  ${label}: ${state.wave.number} of ${state.waves.length} (${hosts}): ${state.wave.phase}${bakeLeft}`);
  }
  lines.push(`  rollback strategy: ${state.rollbackStrategy}`);
  const monitor = state.monitor;
  if (monitor) {
    const how = monitor.outcome
      ? `finished: ${monitor.outcome} at ${monitor.endedAt}`
      : `watching until ${monitor.windowEndsAt} ` +
        `(${formatDurationMs(Math.max(0, Date.parse(monitor.windowEndsAt) - nowMs))} left)`;
    lines.push(
      `  monitor: ${how}; ${monitor.polls} poll(s)${monitor.lastPollAt ? `, last ${monitor.lastPollAt}` : ''}`,
    );
    if (monitor.latestGates?.length) lines.push(`    latest gates: ${monitor.latestGates.join('; ')}`);
  }
  if (state.outcome) lines.push(`  outcome: ${state.outcome}`);
  if (state.incidentId) lines.push(`  incident: ${state.incidentId}`);
  return lines;
}

function describeHost(status: HostStatus): string {
  const service = status.service.isRunning
    ? `running${status.service.pid ? ` (pid ${status.service.pid})` : ''}`
    : 'NOT running';
  const health = status.health
    ? status.health.ok
      ? 'health OK'
      : `health NOT OK (${status.health.error ?? status.health.status})`
    : 'health not probed';
  const lock = status.lock && !status.lock.isStale ? `; LOCKED by ${status.lock.purpose}` : '';
  return (
    `current ${status.currentReleaseId ?? '(none)'}, previous ${status.previousReleaseId ?? '(none)'}; ` +
    `service ${service}, ${health}${lock}`
  );
}
