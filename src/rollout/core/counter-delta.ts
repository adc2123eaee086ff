// Counter and histogram increases over a sliding window, reset-aware as Prometheus's increase(): a drop means a
// restart.
import { selectWindowSamples, type TimedSample } from './sliding-window.js';

/**
 * The increase from `previous` to `current`: a lower value means the counter restarted from zero, so all of it is new.
 */
export function getCounterDelta(previous: number, current: number): number {
  return current < previous ? current : current - previous;
}

/** Sum of reset-aware deltas between consecutive samples inside the window; 0 with fewer than two samples. */
export function getIncreaseOverWindow(samples: TimedSample<number>[], nowMs: number, windowMs: number): number {
  const inWindow = selectWindowSamples(samples, nowMs, windowMs);
  let total = 0;
  for (let i = 1; i < inWindow.length; i++) total += getCounterDelta(inWindow[i - 1].value, inWindow[i].value);
  return total;
}

/** Cumulative histogram buckets keyed by upper bound as text ("0.5", "2", "Infinity"), as kept in the monitor state. */
export type BucketCounts = Record<string, number>;

/**
 * Per-bucket increases between consecutive histogram samples in the window. If any bucket went down the whole
 * histogram restarted (one process owns it), so the later sample counts in full, as Prometheus does per series.
 */
export function getHistogramIncreaseOverWindow(
  samples: TimedSample<BucketCounts>[],
  nowMs: number,
  windowMs: number,
): BucketCounts {
  const inWindow = selectWindowSamples(samples, nowMs, windowMs);
  const total: BucketCounts = {};
  for (let i = 1; i < inWindow.length; i++) {
    const before = inWindow[i - 1].value;
    const after = inWindow[i].value;
    const isReset = Object.entries(after).some(([le, count]) => count < (before[le] ?? 0));
    for (const [le, count] of Object.entries(after)) {
      total[le] = (total[le] ?? 0) + (isReset ? count : count - (before[le] ?? 0));
    }
  }
  return total;
}
