// Pure gate evaluators: one value plus one gate's limits in, one verdict out (pass, warning, violated,
// insufficient-data, error).
import type { GateAction } from '../config/quality-gates.js';

export type GateVerdict = 'pass' | 'warning' | 'violated' | 'insufficient-data' | 'error';
export interface GateResult {
  name: string;
  value: number | null;
  threshold: number;
  unit: string;
  windowMs?: number;
  verdict: GateVerdict;
  action: GateAction;
  detail?: string;
}

/** Above this share of its threshold a gate is in warning. */
export const WARNING_RATIO = 0.8;

/** Violated strictly above the threshold; warning strictly above 80 % of it. */
export function evaluateThreshold(value: number, threshold: number): 'pass' | 'warning' | 'violated' {
  if (value > threshold) return 'violated';
  if (value > threshold * WARNING_RATIO) return 'warning';
  return 'pass';
}

type Base = { name: string; action: GateAction; windowMs?: number };
const result = (
  base: Base,
  unit: string,
  threshold: number,
  value: number | null,
  verdict: GateVerdict,
  detail?: string,
): GateResult => ({
  name: base.name,
  value,
  threshold,
  unit,
  ...(base.windowMs === undefined ? {} : { windowMs: base.windowMs }),
  verdict,
  action: base.action,
  ...(detail === undefined ? {} : { detail }),
});

/** Health: violated when more than `maxConsecutiveFailures` consecutive checks were not OK. */
export function evaluateHealthGate(
  gate: Base & { maxConsecutiveFailures: number },
  consecutiveFailures: number,
): GateResult {
  const verdict = evaluateThreshold(consecutiveFailures, gate.maxConsecutiveFailures);
  return result(gate, 'consecutive failures', gate.maxConsecutiveFailures, consecutiveFailures, verdict);
}

/** Failure rate in percent of attempts over the window; below `minEvents` attempts it is insufficient data. */
export function evaluateFailureRateGate(
  gate: Base & { maxPercent: number; minEvents: number },
  window: { attempts: number; failures: number } | undefined,
): GateResult {
  if (!window) return result(gate, '%', gate.maxPercent, null, 'error', 'metrics unreadable');
  const { attempts, failures } = window;
  const percent = attempts > 0 ? (failures * 100) / attempts : null;
  if (attempts < gate.minEvents) {
    return result(
      gate,
      '%',
      gate.maxPercent,
      percent,
      'insufficient-data',
      `${attempts} attempts in window, ${gate.minEvents} needed`,
    );
  }
  // Compared in integers (failures·100 vs limit·attempts) so 5.0 % is exactly a pass, whatever the float rounding.
  const scaled = failures * 100;
  const limit = gate.maxPercent * attempts;
  const verdict = scaled > limit ? 'violated' : scaled > limit * WARNING_RATIO ? 'warning' : 'pass';
  return result(gate, '%', gate.maxPercent, percent, verdict, `${failures}/${attempts} failed`);
}

/** p95 hash time in ms over the window; below `minEvents` observations it is insufficient data. */
export function evaluateP95Gate(
  gate: Base & { maxMs: number; minEvents: number },
  window: { p95Ms: number | undefined; count: number } | undefined,
): GateResult {
  if (!window) return result(gate, 'ms', gate.maxMs, null, 'error', 'metrics unreadable');
  if (window.count < gate.minEvents || window.p95Ms === undefined) {
    return result(
      gate,
      'ms',
      gate.maxMs,
      window.p95Ms ?? null,
      'insufficient-data',
      `${window.count} hashes in window, ${gate.minEvents} needed`,
    );
  }
  return result(
    gate,
    'ms',
    gate.maxMs,
    window.p95Ms,
    evaluateThreshold(window.p95Ms, gate.maxMs),
    `${window.count} hashes`,
  );
}

/** A latest-value gate (queue length, memory, disk) or a window average (cpu); undefined value → error. */
export function evaluateValueGate(
  gate: Base,
  unit: string,
  threshold: number,
  value: number | undefined,
  missing = 'not measured',
): GateResult {
  if (value === undefined || Number.isNaN(value)) return result(gate, unit, threshold, null, 'error', missing);
  return result(gate, unit, threshold, value, evaluateThreshold(value, threshold));
}
