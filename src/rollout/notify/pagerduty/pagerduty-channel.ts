// PagerDuty Events API v2: `trigger` with a stable dedup_key per deploy, `resolve` with the same key when a rollback
// succeeds.
import type { NotificationChannel } from '../index.js';
import { postJson } from '../http-post.js';
import type { NotifyEventName } from '../events.js';
import { truncateCodePoints } from '../text-limits.js';
import type { RenderedMessage } from '../types.js';

export const PAGERDUTY_CHANNEL_TYPE = 'pagerduty';
export const PAGERDUTY_DEFAULT_URL = 'https://events.pagerduty.com/v2/enqueue';
const MAX_SUMMARY = 1024;

/**
 * A rollback that succeeded closes the incident its violation opened; every other routed event triggers (deduped per
 * deploy).
 */
export function getPagerDutyAction(event: NotifyEventName): 'trigger' | 'resolve' {
  return event === 'rollback-success' ? 'resolve' : 'trigger';
}

/** The event without `routing_key`: the key is a secret and is added only when sending. */
export function renderPagerDutyPayload(m: RenderedMessage): unknown {
  if (getPagerDutyAction(m.event) === 'resolve') return { event_action: 'resolve', dedup_key: m.dedupKey };
  return {
    event_action: 'trigger',
    dedup_key: m.dedupKey,
    client: 'dhash',
    payload: {
      summary: truncateCodePoints(`${m.title}: ${m.summary}`, MAX_SUMMARY),
      source: `dhash-${m.env}`,
      severity: m.severity,
      timestamp: m.createdAt,
      component: 'dhash',
      group: m.env,
      class: m.event,
      custom_details: { ...Object.fromEntries(m.fields.map((f) => [f.label, f.value])), notificationId: m.id },
    },
  };
}

export function createPagerDutyChannel(options: { routingKey: string; url?: string }): NotificationChannel {
  return {
    type: PAGERDUTY_CHANNEL_TYPE,
    render: renderPagerDutyPayload,
    send: (payload, { signal, idempotencyKey }) =>
      postJson(
        options.url ?? PAGERDUTY_DEFAULT_URL,
        { routing_key: options.routingKey, ...(payload as object) },
        {
          variable: options.url ? 'PAGERDUTY_URL' : 'the PagerDuty endpoint',
          signal,
          idempotencyKey,
        },
      ),
  };
}
