// The single-host environment a fleet host runs as: its root, bind address, port and driver, resolved in-process so
// the existing drivers, release folders, lock and journal serve a fleet host unchanged.
import { environmentSchema } from '../config/environments-schema.js';
import { resolveEnvironmentConfig, type ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';

export const HOST_DRIVERS = ['process', 'systemd'] as const;
export type HostDriverType = (typeof HOST_DRIVERS)[number];

export interface HostEnvironmentInput {
  /** The environment root on this host (absolute). */
  root: string;
  /** The fleet environment's name (journal ids, lock messages, DHASH_ENV of the service). */
  envName: string;
  driver: HostDriverType;
  bind: string;
  port: number;
  healthyChecks: number;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  keepReleases: number;
  /** The variables the service and the health probe see (DHASH_ROLLOUT_TOKEN for protected probes). */
  processEnv: Record<string, string | undefined>;
}

export function resolveHostEnvironment(input: HostEnvironmentInput): ResolvedEnvironment {
  if (!input.root.startsWith('/'))
    throw createError('EINVALIDOPTION', { option: '--root', expected: 'an absolute path', actual: input.root });
  const config = environmentSchema.parse({
    description: `fleet host root ${input.root}`,
    root: input.root,
    service: { host: input.bind, port: input.port },
    target: { type: input.driver },
    // A fleet host's service.env names the shared PostgreSQL: the drivers then serve without --db and pass the URL on.
    database: input.processEnv.DHASH_DATABASE_URL ? { engine: 'postgres' } : { engine: 'sqlite' },
    releases: { keep: input.keepReleases },
    // Backups of a fleet are the controller's (PostgreSQL); a host never writes one.
    backups: { dir: `${input.root}/backups` },
    deploy: {
      minFreeDiskMb: 0,
      healthyChecksRequired: input.healthyChecks,
      healthCheckIntervalMs: input.healthIntervalMs,
      healthTimeoutMs: input.healthTimeoutMs,
    },
  });
  return resolveEnvironmentConfig(input.root, input.envName, config, input.processEnv);
}
