// The shape of environments.json: per environment where it lives, how it is served, driven, backed up and notified.
import { z } from 'zod';

export const CHANNEL_NAMES = ['slack', 'teams', 'discord', 'email', 'pagerduty', 'webhook'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];
const channelList = z.array(z.enum(CHANNEL_NAMES));

const processTarget = z.strictObject({
  type: z.literal('process'),
  /** How long to wait after SIGTERM before SIGKILL. */
  stopTimeoutMs: z.number().int().positive().default(10_000),
});
const systemdTarget = z.strictObject({
  type: z.literal('systemd'),
  unitName: z
    .string()
    .regex(/^[A-Za-z0-9@._-]+\.service$/, 'must be a unit file name ending in .service')
    .default('dhash.service'),
  /** Where the unit file is written. */
  unitDir: z.string().default('/etc/systemd/system'),
  user: z.string().optional(),
});
const commandTarget = z.strictObject({
  type: z.literal('command'),
  start: z.string().min(1),
  stop: z.string().min(1),
  status: z.string().min(1),
  timeoutMs: z.number().int().positive().default(60_000),
});
/**
 * One machine of a fleet, reached with the operator's OpenSSH client
 * (so ~/.ssh/config, the agent and ProxyJump apply).
 */
const fleetHost = z.strictObject({
  /** Names the host in plans, status, journals and incidents. */
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'host names are lower-case words'),
  /** What `ssh` connects to: an address or a Host alias of the operator's ssh config. */
  address: z.string().min(1),
  /** sshd's port. */
  port: z.number().int().min(1).max(65535).default(22),
  /** The login user; absent: the ssh config's (or the operator's) user. */
  user: z.string().min(1).optional(),
  /** The environment root on the host (releases/, current, shared/, state/, logs/), an absolute path. */
  root: z.string().regex(/^\//, 'must be an absolute path on the host'),
  /** How the service runs on that host. */
  driver: z.enum(['process', 'systemd']).default('process'),
  /** The address the service listens on and the rollout reaches it at; default: `address`. */
  serviceAddress: z.string().min(1).optional(),
});
export type FleetHostConfig = z.output<typeof fleetHost>;

/** A wave: a number of hosts or a share of the fleet ("25%", rounded up), counted from the start of the rollout. */
const waveSize = z.union([
  z.number().int().positive(),
  z.string().regex(/^([1-9][0-9]?|100)%$/, 'a share of the fleet such as "25%" (1% to 100%)'),
]);

const sshTarget = z.strictObject({
  type: z.literal('ssh'),
  hosts: z.array(fleetHost).min(1),
  /** Cumulative wave sizes; the last one must reach every host, e.g. [1, "25%", "100%"]. */
  waves: z.array(waveSize).min(1).default(['100%']),
  /** How long each wave's gates are judged before the next wave starts ("5m", "30s" on a test fleet). */
  bake: z.string().default('5m'),
  /** Hosts that may be unreachable or unhealthy at once before the rollout stops and rolls back. */
  maxUnavailable: z.number().int().min(0).default(0),
  ssh: z
    .strictObject({
      /** `ssh -F`: an ssh config file instead of ~/.ssh/config. */
      configFile: z.string().optional(),
      /** `ssh -i`. */
      identityFile: z.string().optional(),
      /** UserKnownHostsFile; host keys are always checked (StrictHostKeyChecking=yes). */
      knownHostsFile: z.string().optional(),
      connectTimeoutSeconds: z.number().int().positive().default(10),
    })
    .default({ connectTimeoutSeconds: 10 }),
  /** The node binary on the hosts; the release it runs comes in the artifact. */
  nodePath: z.string().min(1).default('node'),
});
export type SshTargetConfig = z.output<typeof sshTarget>;

export const targetSchema = z.discriminatedUnion('type', [processTarget, systemdTarget, commandTarget, sshTarget]);
export type TargetConfig = z.output<typeof targetSchema>;

const signalsSchema = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('service') }),
  z.strictObject({
    source: z.literal('prometheus'),
    url: z.url(),
    /** The PromQL label selector identifying this environment's dhash, e.g. `job="dhash-production"`. */
    selector: z.string().default('job="dhash"'),
    /** On a fleet: the label that tells hosts apart (`instance` = `<serviceAddress>:<port>`, or `host` = its name). */
    hostLabel: z.enum(['instance', 'host']).default('instance'),
  }),
]);

export const environmentSchema = z.strictObject({
  description: z.string().optional(),
  /**
   * Everything of the environment lives below it (releases/, current, shared/, state/, logs/). Relative to the repo
   * root.
   */
  root: z.string().min(1),
  /** Production-like environments refuse risky steps without --force. */
  isProduction: z.boolean().default(false),
  service: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    /** An environment variable that overrides the port (DHASH_PORT for local). */
    portEnv: z.string().optional(),
    /** Base URL the toolkit uses to reach the service; derived from host and port when absent. */
    baseUrl: z.url().optional(),
  }),
  target: targetSchema.default({ type: 'process', stopTimeoutMs: 10_000 }),
  signals: signalsSchema.default({ source: 'service' }),
  /**
   * The service's store: SQLite in shared/ (the default), or PostgreSQL, which a fleet needs. The URL holds a password,
   * so it comes only from the named environment variable, never from this file.
   */
  database: z
    .discriminatedUnion('engine', [
      z.strictObject({ engine: z.literal('sqlite') }),
      z.strictObject({
        engine: z.literal('postgres'),
        urlEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
          .default('DHASH_DATABASE_URL'),
      }),
    ])
    .default({ engine: 'sqlite' }),
  releases: z.strictObject({ keep: z.number().int().min(2).default(5) }).default({ keep: 5 }),
  backups: z
    .strictObject({
      /** Relative to the repo root; the contract's default is backups/. */
      dir: z.string().min(1).default('backups'),
      keep: z.number().int().min(1).default(10),
    })
    .default({ dir: 'backups', keep: 10 }),
  deploy: z
    .strictObject({
      minFreeDiskMb: z.number().int().min(0).default(500),
      healthyChecksRequired: z.number().int().min(1).default(3),
      healthCheckIntervalMs: z.number().int().positive().default(1000),
      healthTimeoutMs: z.number().int().positive().default(60_000),
    })
    .default({ minFreeDiskMb: 500, healthyChecksRequired: 3, healthCheckIntervalMs: 1000, healthTimeoutMs: 60_000 }),
  notifications: z
    .strictObject({
      /** Channels used per severity; a channel without its environment variables set is skipped. */
      routing: z.strictObject({ info: channelList, warning: channelList, critical: channelList }),
    })
    .default({
      routing: {
        info: ['slack', 'teams', 'discord', 'webhook'],
        warning: ['slack', 'teams', 'discord', 'webhook', 'email'],
        critical: ['slack', 'teams', 'discord', 'webhook', 'email', 'pagerduty'],
      },
    }),
});

export const environmentsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  environments: z.record(
    z.string().regex(/^[a-z][a-z0-9-]*$/, 'environment names are lower-case words'),
    environmentSchema,
  ),
});

export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type EnvironmentsFile = z.output<typeof environmentsFileSchema>;
