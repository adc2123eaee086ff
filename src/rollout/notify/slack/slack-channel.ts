// Slack incoming webhook: Block Kit (header, section fields, context) plus the top-level `text` fallback, within
// Slack's limits.
import type { NotificationChannel } from '../index.js';
import { postJson } from '../http-post.js';
import { renderContextLine } from '../templates.js';
import { escapeSlackText, truncateCodePoints } from '../text-limits.js';
import type { RenderedMessage } from '../types.js';

export const SLACK_CHANNEL_TYPE = 'slack';

/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks), in characters. */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextText: 3000,
  blocks: 50,
  /** The fallback `text` shown in notifications; Slack truncates beyond 40,000, we stay far below. */
  fallbackText: 3000,
} as const;

export function renderSlackPayload(m: RenderedMessage): { text: string; blocks: unknown[] } {
  const blocks: unknown[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncateCodePoints(m.title, SLACK_LIMITS.headerText), emoji: true },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncateCodePoints(escapeSlackText(m.summary), SLACK_LIMITS.sectionText) },
    },
  ];
  for (let i = 0; i < m.fields.length; i += SLACK_LIMITS.fieldsPerSection) {
    blocks.push({
      type: 'section',
      fields: m.fields.slice(i, i + SLACK_LIMITS.fieldsPerSection).map((f) => ({
        type: 'mrkdwn',
        text: truncateCodePoints(`*${escapeSlackText(f.label)}*\n${escapeSlackText(f.value)}`, SLACK_LIMITS.fieldText),
      })),
    });
  }
  const context = {
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: truncateCodePoints(escapeSlackText(renderContextLine(m)), SLACK_LIMITS.contextText) },
    ],
  };
  // Keep the context block even when many field sections would push past the block limit.
  const kept = blocks.slice(0, SLACK_LIMITS.blocks - 1);
  kept.push(context);
  return { text: truncateCodePoints(`${m.title}: ${m.summary}`, SLACK_LIMITS.fallbackText), blocks: kept };
}

export function createSlackChannel(options: { webhookUrl: string }): NotificationChannel {
  return {
    type: SLACK_CHANNEL_TYPE,
    render: renderSlackPayload,
    send: (payload, { signal, idempotencyKey }) =>
      postJson(options.webhookUrl, payload, { variable: 'SLACK_WEBHOOK', signal, idempotencyKey }),
  };
}
