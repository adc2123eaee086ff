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
export const targetSchema = z.discriminatedUnion('type', [processTarget, systemdTarget, commandTarget]);
export type TargetConfig = z.output<typeof targetSchema>;

const signalsSchema = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('service') }),
  z.strictObject({
    source: z.literal('prometheus'),
    url: z.url(),
    /** The PromQL label selector identifying this environment's dhash, e.g. `job="dhash-production"`. */
    selector: z.string().default('job="dhash"'),
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
