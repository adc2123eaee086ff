// The whole plan of a fleet rollout as `--dry-run` and the rollout itself print it: hosts, waves with host names,
// bake, maxUnavailable, migrations and the rollback strategy.
import { formatDurationMs } from '../core/duration.js';
import { formatRollbackStrategy, type RollbackStrategyChoice } from '../core/rollback-strategy.js';
import { formatWavePlan } from '../core/wave-plan.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetPreflightReport } from './fleet-preflight.js';

export interface FleetPlanInput {
  envName: string;
  releaseId: string;
  fleet: FleetConfig;
  preflight: FleetPreflightReport;
  databaseDescription: string;
  strategy: RollbackStrategyChoice;
}

export function formatFleetPlan(input: FleetPlanInput): string {
  const { fleet, preflight } = input;
  const { plan } = fleet;
  const lines = [
    `  release ${input.releaseId} to ${plan.hostCount} host(s) of ${input.envName} in ${plan.waves.length} wave(s); ` +
      `bake ${formatDurationMs(plan.bakeMs)} per wave; maxUnavailable ${plan.maxUnavailable} ` +
      `(at most ${plan.maxUnavailable + 1} host(s) restarting at once)`,
    '  hosts:',
  ];
  for (const host of fleet.target.hosts) {
    const check = preflight.hosts.find((h) => h.name === host.name);
    const where = `${host.user ? `${host.user}@` : ''}${host.address}:${host.port} ${host.root}`;
    const serving = check?.isUnreachable
      ? 'UNREACHABLE (counts against maxUnavailable)'
      : check?.status
        ? `current ${check.status.currentReleaseId ?? '(none: first deploy)'}`
        : 'not checked';
    lines.push(`    ${host.name.padEnd(14)} ${where} (${host.driver}); ${serving}`);
  }
  const pending = preflight.pending?.pending ?? [];
  const migrations = pending.length
    ? `apply ${pending.length} migration(s) once, before wave 1: ` +
      pending
        .map(
          (m) =>
            `${m.version} ${m.name} (${m.isBackwardCompatible ? 'backward compatible' : 'NOT backward compatible'})`,
        )
        .join(', ')
    : 'no pending migrations';
  const steps = [
    ['fleet:lock', `take the deploy lock of \`${input.envName}\` on this machine (one for the whole fleet)`],
    ['fleet:backup', `back up ${input.databaseDescription} once (pg_dump into backups/, verified)`],
    ['fleet:migrate', migrations],
    ...formatWavePlan(plan).map((text, i) => [
      `wave ${i + 1}`,
      `${text.replace(/^wave \d+ /, '')}: service env, stage and verify the artifact, activate (host health checks)`,
    ]),
  ];
  steps.forEach(([name, description], i) => lines.push(`  ${i + 1}. ${name.padEnd(14)} ${description}`));
  lines.push(
    '  Each bake judges per host health and p95HashTime and over the fleet extractionFailureRate and ' +
      'lowConfidenceQueue; the next wave starts only when every gate holds.',
    '  On a violated gate, a failed host or too many unreachable hosts: stop, roll back every updated host ' +
      `(${plan.maxUnavailable + 1} at a time), verify each healthy, notify once, open one incident.`,
    `  Rollback strategy: ${formatRollbackStrategy(input.strategy)}.`,
  );
  return lines.join('\n');
}
