// Checks that an environment can be rolled out as a fleet (ssh hosts, one PostgreSQL, Prometheus) and plans its waves.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { FleetHostConfig, SshTargetConfig } from '../config/environments-schema.js';
import { createError } from '../../lib/errors.js';
import { createWavePlan, getWavePlanProblems, type ConfigProblem, type WavePlan } from '../core/wave-plan.js';
import { formatHostPort } from '../../lib/host-port.js';

export interface FleetConfig {
  target: SshTargetConfig;
  plan: WavePlan;
  /** The Prometheus server every gate of the bake reads, and how it tells hosts apart. */
  prometheus: { url: string; selector: string; hostLabel: 'instance' | 'host' };
  /** The variable holding the shared database's URL (a secret: never printed). */
  databaseUrlEnv: string;
}

/** Whether `environment` deploys over ssh to a fleet (the deploy and status commands branch on it). */
export function isFleetEnvironment(environment: ResolvedEnvironment): boolean {
  return environment.config.target.type === 'ssh';
}

/**
 * The fleet's settings and wave plan; every problem at once as EINVALIDCONFIG (exit 2) naming its JSON path. A fleet
 * shares one library, so it needs PostgreSQL, and its gates span hosts, so it needs Prometheus.
 */
export function resolveFleetConfig(environment: ResolvedEnvironment): FleetConfig {
  const { config, name } = environment;
  const target = config.target;
  if (target.type !== 'ssh') {
    throw createError('EINVALIDCONFIG', {
      file: 'environments.json',
      problems: [{ path: `environments.${name}.target.type`, message: 'a fleet rollout needs `ssh`' }],
    });
  }
  const problems: ConfigProblem[] = getWavePlanProblems({
    envName: name,
    hostNames: target.hosts.map((h) => h.name),
    waves: target.waves,
    bake: target.bake,
    maxUnavailable: target.maxUnavailable,
  });
  if (config.signals.source !== 'prometheus') {
    problems.push({
      path: `environments.${name}.signals.source`,
      message:
        'a fleet judges its gates over every host from Prometheus: set `"source": "prometheus"` with its `url` ' +
        '(and `hostLabel`)',
    });
  }
  if (config.database.engine !== 'postgres') {
    problems.push({
      path: `environments.${name}.database.engine`,
      message: 'the hosts of a fleet share one library: set `"engine": "postgres"` (its URL comes from `urlEnv`)',
    });
  }
  if (problems.length > 0) throw createError('EINVALIDCONFIG', { file: 'environments.json', problems });
  const signals = config.signals as Extract<typeof config.signals, { source: 'prometheus' }>;
  const database = config.database as Extract<typeof config.database, { engine: 'postgres' }>;
  return {
    target,
    plan: createWavePlan({
      envName: name,
      hostNames: target.hosts.map((h) => h.name),
      waves: target.waves,
      bake: target.bake,
      maxUnavailable: target.maxUnavailable,
    }),
    prometheus: { url: signals.url, selector: signals.selector, hostLabel: signals.hostLabel },
    databaseUrlEnv: database.urlEnv,
  };
}

/** Where the rollout reaches a host's service: `http://<serviceAddress or address>:<service port>`. */
export function getHostServiceUrl(environment: ResolvedEnvironment, host: FleetHostConfig): string {
  const address = host.serviceAddress ?? host.address;
  return `http://${formatHostPort(address, environment.port)}`;
}

/** The PromQL matcher naming one host's series, by the label Prometheus tells hosts apart with. */
export function getHostMatcher(
  environment: ResolvedEnvironment,
  host: FleetHostConfig,
  hostLabel: 'instance' | 'host',
): string {
  const address = host.serviceAddress ?? host.address;
  const instance = formatHostPort(address, environment.port);
  const value = hostLabel === 'host' ? host.name : instance;
  return `${hostLabel}="${value.replace(/["\\]/g, '\\$&')}"`;
}
