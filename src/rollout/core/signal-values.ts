// What one poll measured: the values every signal source returns, before any judging.
import type { BucketCounts } from './counter-delta.js';

export interface HealthReading {
  ok: boolean;
  httpStatus?: number;
  latencyMs: number;
  error?: string;
}

/** Raw counters as the service exposes them (since its start); the monitor turns them into window increases. */
export interface CumulativeMetrics {
  kind: 'cumulative';
  extractionSuccess: number;
  extractionFailure: number;
  /** dhash_hash_duration_seconds buckets, upper bound in seconds as text → cumulative count. */
  hashBuckets: BucketCounts;
  queueLength: number;
}

/** Values already computed over each gate's window (a Prometheus server did the increase()). */
export interface WindowedMetrics {
  kind: 'windowed';
  extraction: { attempts: number; failures: number };
  hashP95Ms?: number;
  hashCount: number;
  queueLength: number;
}

export interface HostReading {
  cpuPercent?: number;
  memoryPercent?: number;
  diskPercent?: number;
  processRssBytes?: number;
  processCpuPercent?: number;
}

export interface SignalValues {
  health: HealthReading;
  /** Absent when the metrics could not be read; `metricsError` says why. */
  metrics?: CumulativeMetrics | WindowedMetrics;
  metricsError?: string;
  host?: HostReading;
}

/** One poll's measurement: phase `error` when any part could not be measured (the message says which). */
export interface Measurement {
  value: SignalValues;
  startedAt: number;
  finishedAt: number;
  phase: 'ok' | 'error';
  message?: string;
}
