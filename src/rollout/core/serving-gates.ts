// Pure: the rollback gates judged on one measurement of the release serving now (preflight), before a deploy changes
// it.
import type { ResolvedGates } from '../config/quality-gates.js';
import { formatDurationMs } from './duration.js';
import type { GateResult } from './gates.js';
import { getHistogramQuantile } from './histogram-quantile.js';
import { appendPoll, createSignalHistory, evaluateGates, type WindowedSignals } from './signal-history.js';
import type { SignalValues } from './signal-values.js';

/**
 * Windowed gates over what the source holds: a Prometheus source computed the gates' windows itself; the service's
 * own counters hold everything since it started, which is the only history one poll has. Only `rollback` gates count:
 * an `alert` gate never rolls a release back. Health is judged by preflight:health, not here.
 */
export function evaluateServingGates(gates: ResolvedGates, values: SignalValues, nowMs: number): GateResult[] {
  const m = values.metrics;
  let windowed: WindowedSignals | undefined;
  if (m?.kind === 'cumulative') {
    const seconds = getHistogramQuantile(0.95, m.hashBuckets);
    windowed = {
      extraction: { attempts: m.extractionSuccess + m.extractionFailure, failures: m.extractionFailure },
      p95: {
        p95Ms: seconds === undefined ? undefined : seconds * 1000,
        count: m.hashBuckets.Infinity ?? m.hashBuckets['+Inf'] ?? 0,
      },
    };
  }
  const history = appendPoll(createSignalHistory(), values, nowMs, gates);
  return evaluateGates(gates, history, values, nowMs, windowed).filter(
    (g) => g.action === 'rollback' && g.name !== 'health',
  );
}

/** "12 %", "2450 ms", "1200 items": a gate value as the refusal shows it. */
export function formatGateValue(value: number | null, unit: string): string {
  if (value === null) return 'unknown';
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 1 : 0);
  return `${shown} ${unit}`;
}

/** "over the last 10m (what the source holds)" for windowed gates, undefined otherwise. */
export function describeGateWindow(result: GateResult, isCumulative: boolean): string | undefined {
  if (result.windowMs === undefined) return undefined;
  return isCumulative
    ? `the service's counters since it started (gate window ${formatDurationMs(result.windowMs)})`
    : `the last ${formatDurationMs(result.windowMs)}`;
}
