// histogram_quantile as Prometheus computes it: linear interpolation inside the bucket where the rank falls.
import type { BucketCounts } from './counter-delta.js';

/**
 * The q-quantile of cumulative buckets (upper bound → count, +Inf bucket required), in the buckets' unit.
 * Undefined when there is no +Inf bucket or no observation. A rank in the +Inf bucket yields the highest finite bound.
 */
export function getHistogramQuantile(q: number, buckets: BucketCounts): number | undefined {
  const sorted = Object.entries(buckets)
    .map(([le, count]) => ({ le: Number(le), count }))
    .sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1].le !== Infinity) return undefined;
  // Cumulative counts must not decrease; scrape races can make them, Prometheus coalesces the same way.
  for (let i = 1; i < sorted.length; i++) sorted[i].count = Math.max(sorted[i].count, sorted[i - 1].count);
  const observations = sorted[sorted.length - 1].count;
  if (observations <= 0) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  let rank = q * observations;
  let b = sorted.findIndex((bucket, i) => i < sorted.length - 1 && bucket.count >= rank);
  if (b === -1) b = sorted.length - 1;
  if (b === sorted.length - 1) return sorted[sorted.length - 2].le;
  if (b === 0 && sorted[0].le <= 0) return sorted[0].le;
  let bucketStart = 0;
  const bucketEnd = sorted[b].le;
  let count = sorted[b].count;
  if (b > 0) {
    bucketStart = sorted[b - 1].le;
    count -= sorted[b - 1].count;
    rank -= sorted[b - 1].count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
