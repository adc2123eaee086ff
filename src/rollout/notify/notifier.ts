// The notifier every part of the rollout reports through: render once, send to the routed channels in parallel, outbox
// the rest.
import { randomUUID } from 'node:crypto';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { createSilentLogger } from '../../lib/logger.js';
import { deliverWithRetry, type DeliverySettings } from './deliver.js';
import { isNotifyEventName, NOTIFY_EVENTS } from './events.js';
import type { NotificationChannel } from './index.js';
import {
  NO_CHANNEL,
  OUTBOX_FORMAT_VERSION,
  writeOutboxEntry,
  type OutboxAttempt,
  type OutboxEntry,
} from './outbox/outbox.js';
import { selectChannels } from './routing.js';
import { renderMessage } from './templates.js';
import type { Delivery, DeliveryAttempt, NotificationInput, NotifyReport, RenderedMessage } from './types.js';

export interface NotifierOptions extends DeliverySettings {
  environment: ResolvedEnvironment;
  /** Write every notification to the outbox with reason `dry-run`; send nothing. */
  isDryRun?: boolean;
}

export interface Notifier {
  /**
   * Sends to every routed, configured channel in parallel; each channel that does not take it (after its own
   * retries) gets an outbox file, as does a notification with no channel at all. Never throws for delivery
   * problems; throws EUNKNOWNEVENT for an unknown event, and rethrows when an outbox file cannot be written.
   */
  send(input: NotificationInput): Promise<NotifyReport>;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { environment, clock } = options;
  const redact = options.redact ?? createRedactor(options.processEnv);
  const logger = (options.logger ?? createSilentLogger()).child('notify');
  const outboxDir = environment.paths.notificationsOutDir;

  const toOutbox = async (
    m: RenderedMessage,
    channel: OutboxEntry['channel'],
    payload: unknown,
    reason: string,
    attempts: DeliveryAttempt[],
  ) => {
    const entry = createOutboxEntry(m, channel, payload, reason, attempts, Boolean(options.isDryRun));
    const file = await writeOutboxEntry(outboxDir, entry, redact);
    logger.warn('notification written to the outbox', { event: m.event, channel, reason, file });
    return file;
  };

  const sendToChannel = async (m: RenderedMessage, channel: NotificationChannel): Promise<Delivery> => {
    const payload = channel.render(m);
    const result = await deliverWithRetry({
      channel,
      payload,
      idempotencyKey: m.idempotencyKey,
      clock,
      policy: options.policy,
      random: options.random,
      observer: options.observer,
    });
    if (result.delivered) {
      logger.info('notification delivered', {
        event: m.event,
        channel: channel.type,
        attempts: result.attempts.length,
      });
      return { channel: channel.type, status: 'delivered', attempts: result.attempts.length };
    }
    const error = redact(result.error ?? 'not delivered');
    const outboxFile = await toOutbox(m, channel.type, payload, error, result.attempts);
    return { channel: channel.type, status: 'outboxed', attempts: result.attempts.length, error, outboxFile };
  };

  return {
    async send(input) {
      if (!isNotifyEventName(input.event))
        throw createError('EUNKNOWNEVENT', { event: String(input.event), known: NOTIFY_EVENTS });
      const id = randomUUID();
      const m = renderMessage(input, {
        env: environment.name,
        id,
        idempotencyKey: id,
        createdAtMs: clock.now(),
        redact,
      });
      const channels = selectChannels(environment.config.notifications, input.event, options.processEnv);
      const deliveries: Delivery[] = [];
      if (channels.length === 0) {
        const reason = options.isDryRun ? 'dry-run (no channel configured)' : 'no channel configured';
        const outboxFile = await toOutbox(m, NO_CHANNEL, null, reason, []);
        deliveries.push({ channel: NO_CHANNEL, status: 'outboxed', attempts: 0, error: reason, outboxFile });
      } else if (options.isDryRun) {
        for (const channel of channels) {
          const outboxFile = await toOutbox(m, channel.type, channel.render(m), 'dry-run', []);
          deliveries.push({ channel: channel.type, status: 'outboxed', attempts: 0, error: 'dry-run', outboxFile });
        }
      } else {
        // allSettled: one channel's retries or a failed outbox write never cut the others short.
        const settled = await Promise.allSettled(channels.map((c) => sendToChannel(m, c)));
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        for (const s of settled) if (s.status === 'fulfilled') deliveries.push(s.value);
      }
      const outboxFiles = deliveries.flatMap((d) => (d.outboxFile ? [d.outboxFile] : []));
      return { id, event: m.event, severity: m.severity, deliveries, outboxFiles };
    },
  };
}

export function createOutboxEntry(
  m: RenderedMessage,
  channel: OutboxEntry['channel'],
  payload: unknown,
  reason: string,
  attempts: DeliveryAttempt[],
  isDryRun: boolean,
): OutboxEntry {
  return {
    formatVersion: OUTBOX_FORMAT_VERSION,
    id: m.id,
    idempotencyKey: m.idempotencyKey,
    event: m.event,
    severity: m.severity,
    env: m.env,
    channel,
    status: 'pending',
    reason,
    dryRun: isDryRun,
    createdAt: m.createdAt,
    ...(m.deployId ? { deployId: m.deployId } : {}),
    message: m,
    payload,
    attempts: attempts.map((a): OutboxAttempt => ({ at: a.startedAt, ...a })),
  };
}
