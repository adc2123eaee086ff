// The `service` signal source: GET /health and GET /metrics of the running dhash service, parsed into raw counters.
import type { Clock } from '../../../lib/clock.js';
import { getHistogramBuckets, parsePrometheusText, sumSamples } from '../../core/prometheus-text.js';
import type { CumulativeMetrics, HealthReading, Measurement } from '../../core/signal-values.js';
import type { SignalSource } from '../signal-source.js';
import { getServiceAuthHeaders } from './auth-headers.js';

export const SERVICE_SOURCE_TYPE = 'service';

/** OK = HTTP 200 within the timeout (and, when the body says, status "ok"); anything else carries the reason. */
export async function checkServiceHealth(
  url: string,
  clock: Clock,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<HealthReading> {
  const startedAt = clock.now();
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let ok = response.status === 200;
    try {
      const body = JSON.parse(text) as { status?: unknown };
      if (body && typeof body === 'object' && 'status' in body) ok = ok && body.status === 'ok';
    } catch {}
    const latencyMs = clock.now() - startedAt;
    return ok
      ? { ok, httpStatus: response.status, latencyMs }
      : { ok, httpStatus: response.status, latencyMs, error: text.slice(0, 200) };
  } catch (error) {
    return { ok: false, latencyMs: clock.now() - startedAt, error: describeFetchError(error, timeoutMs) };
  }
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs}ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

/** The four dhash metrics out of an exposition page; throws when a required one is missing. */
export function extractDhashMetrics(text: string): CumulativeMetrics {
  const samples = parsePrometheusText(text);
  const success = sumSamples(samples, 'dhash_extractions_total', { outcome: 'success' });
  const failure = sumSamples(samples, 'dhash_extractions_total', { outcome: 'failure' });
  const queue = sumSamples(samples, 'dhash_low_confidence_queue_length');
  const buckets = getHistogramBuckets(samples, 'dhash_hash_duration_seconds');
  const missing = [
    success === undefined && 'dhash_extractions_total{outcome="success"}',
    failure === undefined && 'dhash_extractions_total{outcome="failure"}',
    queue === undefined && 'dhash_low_confidence_queue_length',
    buckets.length === 0 && 'dhash_hash_duration_seconds_bucket',
  ].filter(Boolean);
  if (missing.length > 0) throw new Error(`metrics page lacks ${missing.join(', ')}`);
  return {
    kind: 'cumulative',
    extractionSuccess: success!,
    extractionFailure: failure!,
    queueLength: queue!,
    hashBuckets: Object.fromEntries(buckets.map((b) => [String(b.le), b.count])),
  };
}

async function readMetrics(
  url: string,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<CumulativeMetrics> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    throw new Error(describeFetchError(error, timeoutMs), { cause: error });
  }
  if (response.status !== 200) throw new Error(`GET /metrics answered HTTP ${response.status}`);
  return extractDhashMetrics(text);
}

/**
 * `serviceToken` (DHASH_ROLLOUT_TOKEN) is sent as a bearer token on both requests, for a service whose probes need one.
 */
export function createServiceSource(options: {
  healthUrl: string;
  metricsUrl: string;
  clock: Clock;
  serviceToken?: string;
}): SignalSource {
  const { clock } = options;
  const headers = getServiceAuthHeaders(options);
  return {
    type: SERVICE_SOURCE_TYPE,
    async measure(query): Promise<Measurement> {
      const startedAt = clock.now();
      const [health, metrics] = await Promise.all([
        checkServiceHealth(options.healthUrl, clock, query.timeoutMs, headers),
        readMetrics(options.metricsUrl, query.timeoutMs, headers).then(
          (value) => ({ value }),
          (error: unknown) => ({ error: (error as Error).message }),
        ),
      ]);
      const problems = [
        !health.ok && `health: ${health.error ?? `HTTP ${health.httpStatus}`}`,
        'error' in metrics && `metrics: ${metrics.error}`,
      ].filter(Boolean);
      return {
        value: { health, ...('value' in metrics ? { metrics: metrics.value } : { metricsError: metrics.error }) },
        startedAt,
        finishedAt: clock.now(),
        phase: problems.length ? 'error' : 'ok',
        ...(problems.length ? { message: problems.join('; ') } : {}),
      };
    },
  };
}
