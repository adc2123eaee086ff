// Preflight of a fleet's gates: the rollback gates judged once on the release serving now, so a wave is never rolled
// back for a condition it did not cause, and the metrics store answers, so no wave bakes blind.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import type { PreflightCheck } from '../deploy/preflight.js';
import type { HostStatus } from '../target/ssh/host-ops.js';
import type { FleetConfig } from './fleet-config.js';
import { appendBakePoll, createBakeHistory, describeFleetGate, evaluateFleetGates } from './fleet-gates.js';
import type { FleetSignalSource } from './fleet-signals.js';
import type { FleetHostOps } from '../target/ssh/host-ops.js';

const TIMEOUT_MS = 5000;

export async function checkServingFleet(input: {
  environment: ResolvedEnvironment;
  fleet: FleetConfig;
  gates: ResolvedQualityGates;
  signals: FleetSignalSource;
  ops: FleetHostOps[];
  force: boolean;
  /** The reachable hosts that serve a release now. */
  hosts: { name: string; status?: HostStatus }[];
}): Promise<PreflightCheck> {
  const name = 'preflight:gates';
  const probe = await input.signals.probe(TIMEOUT_MS);
  if (!probe.ok)
    return {
      name,
      ok: false,
      exitCode: 3,
      detail: `the bake could not judge any wave: ${probe.detail}; fix signals.url in environments.json`,
    };
  if (input.hosts.length === 0)
    return { name, ok: true, detail: `${probe.detail}; nothing serves yet (first deploy): no gates to judge now` };
  const { gates } = input.gates;
  const serving = input.ops.filter((o) => input.hosts.some((h) => h.name === o.host.name)).map((o) => o.host);
  const values = await input.signals.measure({
    hosts: serving,
    windows: { extractionMs: gates.extractionFailureRate.windowMs, p95Ms: gates.p95HashTime.windowMs },
    timeoutMs: TIMEOUT_MS,
  });
  const results = evaluateFleetGates(gates, appendBakePoll(createBakeHistory(), values), values);
  const unhealthy = values.hosts.filter((h) => !h.health.ok).map((h) => `${h.host} (${h.health.error ?? 'not OK'})`);
  const violated = results.filter((r) => r.action === 'rollback' && r.verdict === 'violated');
  const problems = [
    ...(unhealthy.length ? [`not healthy now: ${unhealthy.join(', ')}`] : []),
    ...violated.map((r) => `${describeFleetGate(r)} on the release serving now`),
  ];
  if (problems.length === 0) {
    const shown = results
      .filter((r) => r.scope === 'fleet' && r.action === 'rollback')
      .map((r) => `${r.name} ${r.value === null ? (r.detail ?? '-') : Math.round(r.value * 10) / 10} ${r.unit}`);
    return { name, ok: true, detail: `${shown.join(', ')} on ${serving.length} serving host(s): no gate violated` };
  }
  const detail =
    `${problems.join('; ')}: the new release would be rolled back for a condition it did not cause ` +
    `(see \`npx dhash gates explain --env ${input.environment.name}\`)`;
  if (input.environment.config.isProduction && !input.force)
    return { name, ok: false, exitCode: 3, detail: `${detail}; pass --force to roll out anyway` };
  return { name, ok: true, isWarning: true, detail: `${detail}${input.force ? '; rolling out anyway (--force)' : ''}` };
}
