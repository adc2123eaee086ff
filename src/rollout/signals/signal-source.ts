// Signal sources: the interface every source implements and the one factory that picks them for an environment.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import type { HostReading, Measurement } from '../core/signal-values.js';
import { createHostSource, HOST_SOURCE_TYPE } from './host/host-source.js';
import { createPrometheusSource, PROMETHEUS_SOURCE_TYPE } from './prometheus/prometheus-source.js';
import { createServiceSource, SERVICE_SOURCE_TYPE } from './service/service-source.js';

export interface SignalQuery {
  /** The gates' windows, for sources that compute increases themselves (Prometheus). */
  windows: { extractionMs: number; p95Ms: number };
  /** Per-request timeout; a health check slower than this is not OK. */
  timeoutMs: number;
}

export interface SignalSource {
  readonly type: string;
  /**
   * One measurement of every signal. Never throws: what cannot be measured comes back with phase `error` and a
   * message (health not OK, metrics absent with `metricsError`). Not idempotent for counters: call once per poll.
   */
  measure(query: SignalQuery): Promise<Measurement>;
}

export interface HostSource {
  readonly type: string;
  /** Host and service-process usage; fields that cannot be read are left out. Never throws. */
  measure(): Promise<HostReading>;
}

export interface SignalSourceOptions {
  clock: Clock;
  /** Reads the service's pid (for process RSS/CPU); defaults to `<root>/state/service.pid`. */
  pidFile?: string;
}

/** The environment's configured source (`signals.source`) with host readings merged into each measurement. */
export function createSignalSource(environment: ResolvedEnvironment, options: SignalSourceOptions): SignalSource {
  const signals = environment.config.signals;
  let primary: SignalSource;
  switch (signals.source) {
    case SERVICE_SOURCE_TYPE:
      primary = createServiceSource({
        healthUrl: environment.healthUrl,
        metricsUrl: environment.metricsUrl,
        clock: options.clock,
        serviceToken: environment.serviceToken,
      });
      break;
    case PROMETHEUS_SOURCE_TYPE:
      primary = createPrometheusSource({
        url: signals.url,
        selector: signals.selector,
        healthUrl: environment.healthUrl,
        clock: options.clock,
      });
      break;
    default:
      throw createError('EUNKNOWNSIGNALSOURCE', {
        type: String((signals as { source: unknown }).source),
        known: [SERVICE_SOURCE_TYPE, PROMETHEUS_SOURCE_TYPE],
      });
  }
  const host = createHostSource({
    diskPath: environment.root,
    pidFile: options.pidFile ?? `${environment.stateDir}/service.pid`,
    clock: options.clock,
  });
  return withHost(primary, host);
}

/** Adds host readings to another source's measurements. */
export function withHost(primary: SignalSource, host: HostSource): SignalSource {
  return {
    type: `${primary.type}+${HOST_SOURCE_TYPE}`,
    async measure(query) {
      const [m, h] = await Promise.all([primary.measure(query), host.measure()]);
      return { ...m, value: { ...m.value, host: h } };
    },
  };
}
