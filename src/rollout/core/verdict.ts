// Pure: the gates judged now as one verdict (pass, fail, inconclusive) for Argo Rollouts analysis and Flagger webhooks.
import type { ResolvedGates } from '../config/quality-gates.js';
import type { GateResult } from './gates.js';
import { evaluateServingGates, formatGateValue } from './serving-gates.js';
import type { Measurement } from './signal-values.js';

export type RolloutVerdict = 'pass' | 'fail' | 'inconclusive';

export interface VerdictReport {
  /** True exactly when the verdict is `pass`: what Argo's `successCondition: result.ok == true` reads. */
  ok: boolean;
  verdict: RolloutVerdict;
  /** One sentence a human reads in the Rollout's or Canary's events. */
  reason: string;
  health: { ok: boolean; httpStatus?: number; error?: string };
  /** Every `rollback` gate but health (judged above), as the monitor logs them. */
  gates: GateResult[];
  env: string;
  release: string | null;
  /** ISO time of the judgement. */
  at: string;
}

export interface JudgeVerdictInput {
  gates: ResolvedGates;
  measurement: Measurement;
  nowMs: number;
  envName: string;
  releaseId?: string;
}

/**
 * `fail` when the service is not healthy or a rollback gate is violated; `inconclusive` when the metrics cannot be read
 * or a rollback gate has too few events or no value (a pass needs evidence for every gate); `pass` otherwise.
 * Warnings pass: only a violation rolls a release back, as in the monitor.
 */
export function judgeVerdict(input: JudgeVerdictInput): VerdictReport {
  const { value } = input.measurement;
  const results = value.metrics ? evaluateServingGates(input.gates, value, input.nowMs) : [];
  const violated = results.filter((r) => r.verdict === 'violated');
  const undecided = results.filter((r) => r.verdict === 'insufficient-data' || r.verdict === 'error');
  let verdict: RolloutVerdict;
  let reason: string;
  if (!value.health.ok || violated.length > 0) {
    verdict = 'fail';
    const problems = [
      !value.health.ok && `the service is not healthy (${value.health.error ?? `HTTP ${value.health.httpStatus}`})`,
      ...violated.map(
        (r) =>
          `${r.name} is ${formatGateValue(r.value, r.unit)}, ` +
          `over its threshold of ${formatGateValue(r.threshold, r.unit)}`,
      ),
    ].filter(Boolean);
    reason = `${problems.join('; ')}.`;
  } else if (!value.metrics) {
    verdict = 'inconclusive';
    reason = `The gates could not be judged: ${value.metricsError ?? input.measurement.message ?? 'no metrics'}.`;
  } else if (undecided.length > 0) {
    verdict = 'inconclusive';
    const undecidedDetails = undecided.map((r) => `${r.name} (${r.detail ?? r.verdict})`).join(', ');
    reason = `Not every gate could be judged: ${undecidedDetails}.`;
  } else {
    verdict = 'pass';
    const gateValues = results.map((r) => `${r.name} ${formatGateValue(r.value, r.unit)}`).join(', ');
    reason = `No rollback gate is violated: ${gateValues}.`;
  }
  const { ok, httpStatus, error } = value.health;
  return {
    ok: verdict === 'pass',
    verdict,
    reason: reason.charAt(0).toUpperCase() + reason.slice(1),
    health: { ok, ...(httpStatus === undefined ? {} : { httpStatus }), ...(error === undefined ? {} : { error }) },
    gates: results,
    env: input.envName,
    release: input.releaseId ?? null,
    at: new Date(input.nowMs).toISOString(),
  };
}

/** Flagger advances on 2xx and halts otherwise: only a pass advances (a source error or missing evidence halts). */
export function getFlaggerStatus(report: VerdictReport): 200 | 503 {
  return report.ok ? 200 : 503;
}
