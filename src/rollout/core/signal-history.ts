// The monitor's memory between polls (counter samples, consecutive health failures) and the evaluation of every gate
// over it.
import type { ResolvedGates } from '../config/quality-gates.js';
import { getHistogramIncreaseOverWindow, getIncreaseOverWindow, type BucketCounts } from './counter-delta.js';
import {
  evaluateFailureRateGate,
  evaluateHealthGate,
  evaluateP95Gate,
  evaluateValueGate,
  type GateResult,
} from './gates.js';
import { getHistogramQuantile } from './histogram-quantile.js';
import { getWindowAverage, pruneSamples, type TimedSample } from './sliding-window.js';
import type { SignalValues } from './signal-values.js';

export interface SignalHistory {
  extractionSuccess: TimedSample<number>[];
  extractionFailure: TimedSample<number>[];
  hashBuckets: TimedSample<BucketCounts>[];
  cpuPercent: TimedSample<number>[];
  consecutiveHealthFailures: number;
}

export function createSignalHistory(): SignalHistory {
  return {
    extractionSuccess: [],
    extractionFailure: [],
    hashBuckets: [],
    cpuPercent: [],
    consecutiveHealthFailures: 0,
  };
}

export function getLongestWindowMs(gates: ResolvedGates): number {
  return Math.max(gates.extractionFailureRate.windowMs, gates.p95HashTime.windowMs, gates.cpu.windowMs);
}

/**
 * True when the poll counts as a failed health check: not OK, or blind (metrics unreadable) — a blind monitor never
 * passes.
 */
export function isFailedHealthCheck(values: SignalValues): boolean {
  return !values.health.ok || values.metrics === undefined;
}

/** The history after one more poll at `atMs` (pure: returns a new value). */
export function appendPoll(
  history: SignalHistory,
  values: SignalValues,
  atMs: number,
  gates: ResolvedGates,
): SignalHistory {
  const keep = getLongestWindowMs(gates);
  const push = <T>(list: TimedSample<T>[], value: T | undefined) =>
    pruneSamples(value === undefined ? list : [...list, { atMs, value }], atMs, keep);
  const m = values.metrics?.kind === 'cumulative' ? values.metrics : undefined;
  return {
    extractionSuccess: push(history.extractionSuccess, m?.extractionSuccess),
    extractionFailure: push(history.extractionFailure, m?.extractionFailure),
    hashBuckets: push(history.hashBuckets, m?.hashBuckets),
    cpuPercent: push(history.cpuPercent, values.host?.cpuPercent),
    consecutiveHealthFailures: isFailedHealthCheck(values) ? history.consecutiveHealthFailures + 1 : 0,
  };
}

export interface WindowedSignals {
  extraction?: { attempts: number; failures: number };
  p95?: { p95Ms: number | undefined; count: number };
}

/** The window values the gates judge: increases over each gate's window (service) or as Prometheus computed them. */
export function getWindowedSignals(
  gates: ResolvedGates,
  history: SignalHistory,
  values: SignalValues,
  nowMs: number,
): WindowedSignals {
  const m = values.metrics;
  if (m?.kind === 'cumulative') {
    const w = gates.extractionFailureRate.windowMs;
    const failures = getIncreaseOverWindow(history.extractionFailure, nowMs, w);
    const buckets = getHistogramIncreaseOverWindow(history.hashBuckets, nowMs, gates.p95HashTime.windowMs);
    const seconds = getHistogramQuantile(0.95, buckets);
    return {
      extraction: { attempts: failures + getIncreaseOverWindow(history.extractionSuccess, nowMs, w), failures },
      p95: { p95Ms: seconds === undefined ? undefined : seconds * 1000, count: buckets.Infinity ?? 0 },
    };
  }
  if (m?.kind === 'windowed') return { extraction: m.extraction, p95: { p95Ms: m.hashP95Ms, count: m.hashCount } };
  return {};
}

/** Every gate's verdict at `nowMs`, from the history (already including this poll) and this poll's values. */
export function evaluateGates(
  gates: ResolvedGates,
  history: SignalHistory,
  values: SignalValues,
  nowMs: number,
  windowed = getWindowedSignals(gates, history, values, nowMs),
): GateResult[] {
  const m = values.metrics;
  const { extraction, p95 } = windowed;
  const host = values.host;
  const g = gates;
  return [
    evaluateHealthGate({ name: 'health', ...g.health }, history.consecutiveHealthFailures),
    evaluateFailureRateGate({ name: 'extractionFailureRate', ...g.extractionFailureRate }, extraction),
    evaluateP95Gate({ name: 'p95HashTime', ...g.p95HashTime }, p95),
    evaluateValueGate(
      { name: 'lowConfidenceQueue', ...g.lowConfidenceQueue },
      'items',
      g.lowConfidenceQueue.maxItems,
      m?.queueLength,
      'metrics unreadable',
    ),
    evaluateValueGate(
      { name: 'cpu', ...g.cpu },
      '%',
      g.cpu.maxPercent,
      getWindowAverage(history.cpuPercent, nowMs, g.cpu.windowMs),
    ),
    evaluateValueGate({ name: 'memory', ...g.memory }, '%', g.memory.maxPercent, host?.memoryPercent),
    evaluateValueGate({ name: 'disk', ...g.disk }, '%', g.disk.maxPercent, host?.diskPercent),
  ];
}
