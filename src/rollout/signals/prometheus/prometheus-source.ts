// The `prometheus` signal source: the same signals through PromQL over a Prometheus server's HTTP API (/api/v1/query).
import type { Clock } from '../../../lib/clock.js';
import type { HealthReading, Measurement, WindowedMetrics } from '../../core/signal-values.js';
import type { SignalSource } from '../signal-source.js';
import { describeFetchError } from '../service/service-source.js';

export const PROMETHEUS_SOURCE_TYPE = 'prometheus';

const range = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;

/** The PromQL of each signal for a label selector such as `job="dhash"`. */
export function buildPromQueries(selector: string, windows: { extractionMs: number; p95Ms: number }) {
  const sel = selector.trim();
  const withSel = (extra?: string) => `{${[sel, extra].filter(Boolean).join(',')}}`;
  return {
    up: `min(up${withSel()})`,
    attempts: `sum(increase(dhash_extractions_total${withSel()}[${range(windows.extractionMs)}]))`,
    failures: `sum(increase(dhash_extractions_total${withSel('outcome="failure"')}[${range(windows.extractionMs)}]))`,
    hashP95Seconds:
      'histogram_quantile(0.95, sum by (le) (increase(' +
      `dhash_hash_duration_seconds_bucket${withSel()}[${range(windows.p95Ms)}])))`,
    hashCount: `sum(increase(dhash_hash_duration_seconds_count${withSel()}[${range(windows.p95Ms)}]))`,
    queueLength: `max(dhash_low_confidence_queue_length${withSel()})`,
  };
}

/** One instant query; the single value of a vector result, undefined for an empty result. Throws on HTTP/API errors. */
export async function queryPromScalar(baseUrl: string, promql: string, timeoutMs: number): Promise<number | undefined> {
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`;
  let body: {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: { value?: [number, string] }[] };
  };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = (await response.json()) as typeof body;
    if (!response.ok || body.status !== 'success')
      throw new Error(`Prometheus answered HTTP ${response.status}: ${body.error ?? body.status}`);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('Prometheus')) throw error;
    throw new Error(`Prometheus query failed: ${describeFetchError(error, timeoutMs)}`, { cause: error });
  }
  const first = body.data?.result?.[0]?.value?.[1];
  if (first === undefined) return undefined;
  const n = Number(first);
  return Number.isNaN(n) ? undefined : n;
}

export function createPrometheusSource(options: {
  url: string;
  selector: string;
  healthUrl: string;
  clock: Clock;
}): SignalSource {
  const { clock } = options;
  return {
    type: PROMETHEUS_SOURCE_TYPE,
    async measure(query): Promise<Measurement> {
      const startedAt = clock.now();
      const q = buildPromQueries(options.selector, query.windows);
      const ask = (promql: string) => queryPromScalar(options.url, promql, query.timeoutMs);
      let health: HealthReading;
      let metrics: WindowedMetrics | undefined;
      let metricsError: string | undefined;
      try {
        const [up, attempts, failures, p95, count, queue] = await Promise.all([
          ask(q.up),
          ask(q.attempts),
          ask(q.failures),
          ask(q.hashP95Seconds),
          ask(q.hashCount),
          ask(q.queueLength),
        ]);
        health =
          up === 1
            ? { ok: true, latencyMs: clock.now() - startedAt }
            : {
                ok: false,
                latencyMs: clock.now() - startedAt,
                error: up === undefined ? 'no dhash target in Prometheus' : 'Prometheus reports the target down (up=0)',
              };
        if (attempts === undefined || failures === undefined || queue === undefined) {
          metricsError = 'Prometheus has no dhash series for the selector';
        } else {
          metrics = {
            kind: 'windowed',
            extraction: { attempts, failures },
            hashCount: count ?? 0,
            queueLength: queue,
            ...(p95 === undefined ? {} : { hashP95Ms: p95 * 1000 }),
          };
        }
      } catch (error) {
        const message = (error as Error).message;
        health = { ok: false, latencyMs: clock.now() - startedAt, error: message };
        metricsError = message;
      }
      const problems = [!health.ok && `health: ${health.error}`, metricsError && `metrics: ${metricsError}`].filter(
        Boolean,
      );
      return {
        value: { health, ...(metrics ? { metrics } : { metricsError }) },
        startedAt,
        finishedAt: clock.now(),
        phase: problems.length ? 'error' : 'ok',
        ...(problems.length ? { message: problems.join('; ') } : {}),
      };
    },
  };
}
