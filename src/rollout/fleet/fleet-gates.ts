// Pure: a wave's bake judged poll by poll: per-host gates (health, p95 of that host) and fleet gates (failure rate and
// low-confidence queue over every host), then one decision: keep baking, the wave holds, or stop.
import type { ResolvedGates } from '../config/quality-gates.js';
import {
  evaluateFailureRateGate,
  evaluateHealthGate,
  evaluateP95Gate,
  evaluateValueGate,
  type GateResult,
} from '../core/gates.js';
import type { HealthReading } from '../core/signal-values.js';

/** One host's readings in one poll: its health as the rollout sees it, its p95 over the bake from Prometheus. */
export interface HostSignalValues {
  host: string;
  health: HealthReading;
  /** Absent when Prometheus could not answer for this host (`metricsError` says why). */
  p95?: { p95Ms: number | undefined; count: number };
  metricsError?: string;
}

/** One poll of the fleet: every judged host, and the fleet-wide signals summed over all hosts. */
export interface FleetSignalValues {
  hosts: HostSignalValues[];
  extraction?: { attempts: number; failures: number };
  queueLength?: number;
  /** Why the fleet-wide signals are missing, when they are. */
  metricsError?: string;
}

/** A gate result with where it was judged: on one host, or over the fleet. */
export type FleetGateResult = GateResult & { scope: 'host' | 'fleet'; host?: string };

/** What the bake remembers between polls: consecutive failed health checks per host. */
export interface BakeHistory {
  consecutiveHealthFailures: Record<string, number>;
}

export function createBakeHistory(): BakeHistory {
  return { consecutiveHealthFailures: {} };
}

/** The history after one more poll (pure: returns a new value); a host not in this poll keeps its count. */
export function appendBakePoll(history: BakeHistory, values: FleetSignalValues): BakeHistory {
  const counts = { ...history.consecutiveHealthFailures };
  for (const h of values.hosts) counts[h.host] = h.health.ok ? 0 : (counts[h.host] ?? 0) + 1;
  return { consecutiveHealthFailures: counts };
}

/**
 * Every gate of the poll: health and p95 per host, failure rate and queue over the fleet. CPU, memory and disk are
 * read on the machine that runs the rollout, which is not a fleet host, so they are not judged here.
 */
export function evaluateFleetGates(
  gates: ResolvedGates,
  history: BakeHistory,
  values: FleetSignalValues,
): FleetGateResult[] {
  const out: FleetGateResult[] = [];
  for (const h of values.hosts) {
    const onHost = (r: GateResult): FleetGateResult => ({ ...r, scope: 'host', host: h.host });
    out.push(
      onHost(evaluateHealthGate({ name: 'health', ...gates.health }, history.consecutiveHealthFailures[h.host] ?? 0)),
    );
    out.push(onHost(evaluateP95Gate({ name: 'p95HashTime', ...gates.p95HashTime }, h.p95)));
  }
  const onFleet = (r: GateResult): FleetGateResult => ({ ...r, scope: 'fleet' });
  out.push(
    onFleet(
      evaluateFailureRateGate({ name: 'extractionFailureRate', ...gates.extractionFailureRate }, values.extraction),
    ),
  );
  out.push(
    onFleet(
      evaluateValueGate(
        { name: 'lowConfidenceQueue', ...gates.lowConfidenceQueue },
        'items',
        gates.lowConfidenceQueue.maxItems,
        values.queueLength,
        values.metricsError ?? 'metrics unreadable',
      ),
    ),
  );
  return out;
}

export type BakeDecision =
  /** Nothing violated yet; the bake goes on. */
  | { kind: 'baking' }
  /** The bake time is over and every rollback gate holds: the next wave may start. */
  | { kind: 'held'; notes: string[] }
  /** A rollback gate is violated (or could not be judged at the end): stop and roll back. */
  | { kind: 'violated'; violations: FleetGateResult[]; reason: string }
  /** Hosts whose health gate is violated: the rollout asks each over ssh whether it is unreachable or unhealthy. */
  | { kind: 'hosts-unhealthy'; hosts: string[]; violations: FleetGateResult[] };

/**
 * The decision after a poll. A violated health gate is handed back as `hosts-unhealthy` first: an unreachable host
 * counts against maxUnavailable, a reachable one that fails its health is the release's fault. At the end of the bake
 * a gate that could not be judged (`error`) stops the rollout: the next wave never starts blind. Too few events is not
 * evidence against the release and holds, with a note.
 */
export function decideBake(results: FleetGateResult[], options: { isFinal: boolean }): BakeDecision {
  const rollbackGates = results.filter((r) => r.action === 'rollback');
  const violated = rollbackGates.filter((r) => r.verdict === 'violated');
  const unhealthy = violated.filter((r) => r.scope === 'host' && r.name === 'health');
  const others = violated.filter((r) => !unhealthy.includes(r));
  if (others.length > 0)
    return { kind: 'violated', violations: others, reason: others.map(describeFleetGate).join('; ') };
  if (unhealthy.length > 0)
    return { kind: 'hosts-unhealthy', hosts: unhealthy.map((r) => r.host!), violations: unhealthy };
  if (!options.isFinal) return { kind: 'baking' };
  const blind = rollbackGates.filter((r) => r.verdict === 'error');
  if (blind.length > 0) {
    return {
      kind: 'violated',
      violations: blind,
      reason: `could not judge ${blind.map((r) => `${getGateLabel(r)} (${r.detail ?? 'no value'})`).join(', ')}`,
    };
  }
  const notes = rollbackGates
    .filter((r) => r.verdict === 'insufficient-data')
    .map((r) => `${getGateLabel(r)}: ${r.detail ?? 'too few events'}`);
  return { kind: 'held', notes };
}

/** `web-1 health` or `fleet extractionFailureRate`. */
export function getGateLabel(result: FleetGateResult): string {
  return `${result.scope === 'host' ? result.host : 'fleet'} ${result.name}`;
}

/** `fleet extractionFailureRate 33.3 % > 5 %` (or its detail when it has no value). */
export function describeFleetGate(result: FleetGateResult): string {
  const value = result.value === null ? (result.detail ?? 'no value') : `${round(result.value)} ${result.unit}`;
  return `${getGateLabel(result)} ${value} > ${result.threshold} ${result.unit}`;
}

const round = (n: number) => Math.round(n * 10) / 10;
