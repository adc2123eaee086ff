// The service's Prometheus registry:
// the four contract metrics (names fixed by ARCHITECTURE.md), admission metrics, process defaults.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; the monitor's p95 gate is "> 2000 ms", so a bucket boundary sits at exactly 2. */
export const HASH_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The routes behind admission control, so their shed counters exist (at 0) from the start. */
export const HASHING_ROUTES = ['/v1/hash', '/v1/extract', '/v1/match', '/v1/library'] as const;
export const SHED_REASONS = ['queued-bytes', 'queue-wait'] as const;

export type ExtractionOutcome = 'success' | 'failure';

export interface ServiceMetrics {
  registry: Registry;
  /** Records one extraction attempt (a hash request, a match's hashing, one PDF image); failures carry no duration. */
  recordExtraction(outcome: ExtractionOutcome, durationSeconds?: number): void;
  /** Keeps the gauge equal to the number of pending review items. */
  setQueueLength(count: number): void;
  /** Counts one request refused by admission control (503 EOVERLOADED); never an extraction. */
  recordShed(route: string, reason: string): void;
  /** Reads the admission gate's state at scrape time. */
  observeAdmission(read: () => { inFlight: number; queuedBytes: number }): void;
  /** The exposition text and its content type, for GET /metrics. */
  getExposition(): Promise<{ contentType: string; body: string }>;
}

export interface CreateMetricsOptions {
  version: string;
  /** Node process metrics (memory, CPU, event loop); off in tests that parse the text to keep it short. */
  shouldCollectDefaults?: boolean;
}

export function createServiceMetrics(options: CreateMetricsOptions): ServiceMetrics {
  // A private registry: two services (or a test and a service) in one process never share counters.
  const registry = new Registry();
  const hashDuration = new Histogram({
    name: 'dhash_hash_duration_seconds',
    help: 'Time to decode and hash one image (requests, match queries and each PDF image), in seconds.',
    buckets: HASH_DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const extractions = new Counter({
    name: 'dhash_extractions_total',
    help: 'Extraction attempts by outcome; bad input that was an extraction attempt counts as failure.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const queueLength = new Gauge({
    name: 'dhash_low_confidence_queue_length',
    help: 'Pending items on the low-confidence review queue.',
    registers: [registry],
  });
  const buildInfo = new Gauge({
    name: 'dhash_build_info',
    help: 'Always 1; the version label names the running build.',
    labelNames: ['version'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'dhash_requests_shed_total',
    help:
      'Hashing requests refused with 503 EOVERLOADED by admission control, ' +
      'by route and reason (queued-bytes, queue-wait).',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  let readAdmission: (() => { inFlight: number; queuedBytes: number }) | undefined;
  new Gauge({
    name: 'dhash_hashing_in_flight',
    help: 'Hashing jobs running now (bounded by the admission limit maxInFlight).',
    registers: [registry],
    collect() {
      this.set(readAdmission?.().inFlight ?? 0);
    },
  });
  new Gauge({
    name: 'dhash_queued_body_bytes',
    help: 'Body bytes held by admitted hashing requests (bounded by the admission limit maxQueuedBytes).',
    registers: [registry],
    collect() {
      this.set(readAdmission?.().queuedBytes ?? 0);
    },
  });
  // Both outcomes exist from the start so a rate over "failure" is 0, not absent, on a fresh service.
  extractions.inc({ outcome: 'success' }, 0);
  extractions.inc({ outcome: 'failure' }, 0);
  for (const route of HASHING_ROUTES) for (const reason of SHED_REASONS) shed.inc({ route, reason }, 0);
  buildInfo.set({ version: options.version }, 1);
  queueLength.set(0);
  if (options.shouldCollectDefaults ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    recordExtraction(outcome, durationSeconds) {
      extractions.inc({ outcome });
      if (outcome === 'success' && durationSeconds !== undefined) hashDuration.observe(durationSeconds);
    },
    recordShed(route, reason) {
      shed.inc({ route, reason });
    },
    observeAdmission(read) {
      readAdmission = read;
    },
    setQueueLength(count) {
      queueLength.set(count);
    },
    async getExposition() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
