// The fleet's signals for one bake poll: each host's health over HTTP, its p95 and the fleet's failure rate and queue
// from Prometheus (PromQL with the host label).
import type { ResolvedEnvironment } from '../config/environments.js';
import type { FleetHostConfig } from '../config/environments-schema.js';
import type { Clock } from '../../lib/clock.js';
import { checkHealthOnce, type HealthCheck } from '../checks/health.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';
import { buildPromQueries, queryPromScalar } from '../signals/prometheus/prometheus-source.js';
import type { FleetSignalValues, HostSignalValues } from './fleet-gates.js';
import { getHostMatcher, getHostServiceUrl, type FleetConfig } from './fleet-config.js';

export interface FleetSignalQuery {
  /** The hosts whose per-host gates are judged (those running the new release). */
  hosts: readonly FleetHostConfig[];
  /** The windows the increases are computed over (the bake time, capped by each gate's own window). */
  windows: { extractionMs: number; p95Ms: number };
  /** Per request; a health answer slower than this is not OK. */
  timeoutMs: number;
}

export interface FleetSignalSource {
  /**
   * One reading of every host and of the fleet. Never throws: what cannot be read comes back as a health reading that
   * is not OK, or as absent metrics with `metricsError`. Call once per poll.
   */
  measure(query: FleetSignalQuery): Promise<FleetSignalValues>;
  /** One health check of a host's service as the rollout reaches it (with its token). Never throws. */
  checkHealth(host: FleetHostConfig, timeoutMs: number): Promise<HealthCheck>;
  /** Whether the metrics store answers at all (before anything serves, there are no series to read). Never throws. */
  probe(timeoutMs: number): Promise<{ ok: boolean; detail: string }>;
}

/** Health straight from each host's service (with the rollout's token); everything else from Prometheus. */
export function createFleetSignalSource(
  environment: ResolvedEnvironment,
  fleet: Pick<FleetConfig, 'prometheus'>,
  options: { clock: Clock },
): FleetSignalSource {
  const { clock } = options;
  const { url, selector, hostLabel } = fleet.prometheus;
  const headers = getServiceAuthHeaders(environment);
  const measureHost = async (host: FleetHostConfig, query: FleetSignalQuery): Promise<HostSignalValues> => {
    const healthUrl = `${getHostServiceUrl(environment, host)}/health`;
    const q = buildPromQueries(`${selector.trim()},${getHostMatcher(environment, host, hostLabel)}`, query.windows);
    const [health, p95] = await Promise.all([
      checkHealthOnce(healthUrl, clock, query.timeoutMs, headers),
      Promise.all([
        queryPromScalar(url, q.hashP95Seconds, query.timeoutMs),
        queryPromScalar(url, q.hashCount, query.timeoutMs),
      ]).then(
        ([seconds, count]) => ({ p95Ms: seconds === undefined ? undefined : seconds * 1000, count: count ?? 0 }),
        (error: Error) => error,
      ),
    ]);
    return {
      host: host.name,
      health: {
        ok: health.ok,
        latencyMs: health.latencyMs,
        ...(health.status === undefined ? {} : { httpStatus: health.status }),
        ...(health.error === undefined ? {} : { error: health.error }),
      },
      ...(p95 instanceof Error ? { metricsError: p95.message } : { p95 }),
    };
  };
  return {
    async measure(query) {
      const q = buildPromQueries(selector, query.windows);
      const ask = (promql: string) => queryPromScalar(url, promql, query.timeoutMs);
      const [hosts, fleetWide] = await Promise.all([
        Promise.all(query.hosts.map((h) => measureHost(h, query))),
        Promise.all([ask(q.attempts), ask(q.failures), ask(q.queueLength)]).then(
          // The queue gauge exists from a host's first scrape: without it the selector finds no dhash at all. An
          // empty increase() beside it only means fewer than two scrapes in the window: no events yet, not blindness.
          ([attempts, failures, queueLength]) =>
            queueLength === undefined
              ? { metricsError: `Prometheus has no dhash series for ${selector}` }
              : { extraction: { attempts: attempts ?? 0, failures: failures ?? 0 }, queueLength },
          (error: Error) => ({ metricsError: error.message }),
        ),
      ]);
      return { hosts, ...fleetWide };
    },
    checkHealth: (host, timeoutMs) =>
      checkHealthOnce(`${getHostServiceUrl(environment, host)}/health`, clock, timeoutMs, headers),
    async probe(timeoutMs) {
      try {
        const value = await queryPromScalar(url, 'vector(1)', timeoutMs);
        return value === 1
          ? { ok: true, detail: `Prometheus at ${url} answers` }
          : { ok: false, detail: `Prometheus at ${url} answered vector(1) with ${String(value)}` };
      } catch (error) {
        return { ok: false, detail: (error as Error).message };
      }
    },
  };
}
