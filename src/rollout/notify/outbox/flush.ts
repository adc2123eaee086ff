// `dhash notify flush`: re-sends pending outbox files with the channel settings of the current environment, marks what
// got through.
import { resolveEnvironment } from '../../config/environments.js';
import { createRedactor } from '../../../lib/redact.js';
import { getProjectPaths } from '../../../lib/project-paths.js';
import { createSilentLogger } from '../../../lib/logger.js';
import { deliverWithRetry, type DeliverySettings } from '../deliver.js';
import { CHANNEL_VARIABLES, createChannel, type NotificationChannel } from '../channels.js';
import { createOutboxEntry } from '../notifier.js';
import { selectChannels } from '../routing.js';
import type { DeliveryAttempt } from '../types.js';
import { listOutboxEntries, NO_CHANNEL, writeOutboxEntry, type StoredOutboxEntry } from './outbox.js';

export interface FlushOptions extends DeliverySettings {
  /** Only entries of this environment; all when absent. */
  envName?: string;
  /** Dry-run entries are rehearsals and are skipped unless this is set. */
  includeDryRun?: boolean;
}

export interface FlushItem {
  file: string;
  channel: string;
  status: 'delivered' | 'pending' | 'skipped';
  detail?: string;
  /** Files written for channels that failed while delivering a `none` entry. */
  newFiles?: string[];
}

export interface FlushResult {
  items: FlushItem[];
  delivered: number;
  pending: number;
  skipped: number;
}

/**
 * Idempotent per file: a delivered entry is never sent again (it is rewritten with status `delivered`).
 * Channels are flushed in parallel, each channel's files oldest first; after a channel fails once, its
 * remaining files wait for the next flush instead of each spending the full retry budget.
 */
export async function flushOutbox(options: FlushOptions): Promise<FlushResult> {
  const redact = options.redact ?? createRedactor(options.processEnv);
  const logger = (options.logger ?? createSilentLogger()).child('notify.flush');
  const dir = getProjectPaths(options.projectRoot).notificationsOutDir;
  const items: FlushItem[] = [];
  const groups = new Map<string, StoredOutboxEntry[]>();
  for (const stored of await listOutboxEntries(dir)) {
    const { entry } = stored;
    if (entry.status !== 'pending' || (options.envName && entry.env !== options.envName)) continue;
    if (entry.dryRun && !options.includeDryRun) {
      items.push({
        file: stored.file,
        channel: entry.channel,
        status: 'skipped',
        detail: 'dry-run rehearsal (use --include-dry-run to send)',
      });
      continue;
    }
    groups.set(entry.channel, [...(groups.get(entry.channel) ?? []), stored]);
  }

  const attemptAt = (error: string) => ({ at: new Date(options.clock.now()).toISOString(), error });
  const deliver = (channel: NotificationChannel, payload: unknown, key: string) =>
    deliverWithRetry({
      channel,
      payload,
      idempotencyKey: key,
      clock: options.clock,
      policy: options.policy,
      random: options.random,
      observer: options.observer,
    });
  const markDelivered = async (stored: StoredOutboxEntry, attempts: DeliveryAttempt[], deliveredTo?: string[]) => {
    const entry = {
      ...stored.entry,
      status: 'delivered' as const,
      deliveredAt: new Date(options.clock.now()).toISOString(),
      attempts: [...stored.entry.attempts, ...attempts.map((a) => ({ at: a.startedAt, ...a }))],
      ...(deliveredTo ? { deliveredTo } : {}),
    };
    await writeOutboxEntry(dir, entry, redact, stored.file);
  };
  const keepPending = async (stored: StoredOutboxEntry, reason: string, attempts: DeliveryAttempt[]) => {
    const extra = attempts.length ? attempts.map((a) => ({ at: a.startedAt, ...a })) : [attemptAt(reason)];
    await writeOutboxEntry(
      dir,
      { ...stored.entry, reason, attempts: [...stored.entry.attempts, ...extra] },
      redact,
      stored.file,
    );
  };

  const flushGroup = async (channelName: string, entries: StoredOutboxEntry[]) => {
    let channelDown: string | undefined;
    for (const stored of entries) {
      const { entry } = stored;
      if (channelDown) {
        items.push({ file: stored.file, channel: channelName, status: 'pending', detail: `not tried: ${channelDown}` });
        continue;
      }
      if (channelName === NO_CHANNEL) {
        items.push(await flushUnrouted(stored));
        continue;
      }
      let channel: NotificationChannel | undefined;
      try {
        channel = createChannel(channelName, options.processEnv);
      } catch (error) {
        channelDown = redact(error instanceof Error ? error.message : String(error));
      }
      if (!channel) {
        channelDown ??= `${CHANNEL_VARIABLES[entry.channel as keyof typeof CHANNEL_VARIABLES]} is not set`;
        await keepPending(stored, channelDown, []);
        items.push({ file: stored.file, channel: channelName, status: 'pending', detail: channelDown });
        continue;
      }
      const result = await deliver(channel, entry.payload, entry.idempotencyKey);
      if (result.delivered) {
        await markDelivered(stored, result.attempts);
        items.push({ file: stored.file, channel: channelName, status: 'delivered' });
      } else {
        channelDown = redact(result.error ?? 'not delivered');
        await keepPending(stored, channelDown, result.attempts);
        items.push({ file: stored.file, channel: channelName, status: 'pending', detail: channelDown });
      }
    }
  };

  /**
   * An entry that had no channel: route it now; failures of the newly routed channels become their own pending files.
   */
  const flushUnrouted = async (stored: StoredOutboxEntry): Promise<FlushItem> => {
    const { entry } = stored;
    let channels: NotificationChannel[];
    try {
      const environment = await resolveEnvironment(options.projectRoot, entry.env, options.processEnv);
      channels = selectChannels(environment.config.notifications, entry.event, options.processEnv);
    } catch (error) {
      const reason = `cannot route: ${redact(error instanceof Error ? error.message : String(error))}`;
      await keepPending(stored, reason, []);
      return { file: stored.file, channel: NO_CHANNEL, status: 'pending', detail: reason };
    }
    if (channels.length === 0) {
      await keepPending(stored, 'no channel configured', []);
      return { file: stored.file, channel: NO_CHANNEL, status: 'pending', detail: 'no channel configured' };
    }
    const results = await Promise.all(
      channels.map(async (c) => {
        const payload = c.render(entry.message);
        return { c, payload, r: await deliver(c, payload, entry.idempotencyKey) };
      }),
    );
    const deliveredTo = results.filter((x) => x.r.delivered).map((x) => x.c.type);
    const attempts = results.flatMap((x) => x.r.attempts);
    if (deliveredTo.length === 0) {
      const reason = results.map((x) => `${x.c.type}: ${redact(x.r.error ?? 'not delivered')}`).join('; ');
      await keepPending(stored, reason, attempts);
      return { file: stored.file, channel: NO_CHANNEL, status: 'pending', detail: reason };
    }
    const newFiles: string[] = [];
    for (const x of results.filter((y) => !y.r.delivered)) {
      const fresh = createOutboxEntry(
        entry.message,
        x.c.type,
        x.payload,
        redact(x.r.error ?? 'not delivered'),
        x.r.attempts,
        false,
      );
      newFiles.push(await writeOutboxEntry(dir, fresh, redact));
    }
    await markDelivered(stored, attempts, deliveredTo);
    return {
      file: stored.file,
      channel: NO_CHANNEL,
      status: 'delivered',
      detail: `delivered to ${deliveredTo.join(', ')}`,
      ...(newFiles.length ? { newFiles } : {}),
    };
  };

  await Promise.all([...groups].map(([name, entries]) => flushGroup(name, entries)));
  items.sort((a, b) => a.file.localeCompare(b.file));
  const count = (s: FlushItem['status']) => items.filter((i) => i.status === s).length;
  const result = { items, delivered: count('delivered'), pending: count('pending'), skipped: count('skipped') };
  logger.info('outbox flushed', { delivered: result.delivered, pending: result.pending, skipped: result.skipped });
  return result;
}
