// Discord webhook: one embed (title, description, inline fields, colour by severity), mentions disabled.
import type { NotificationChannel } from '../index.js';
import { postJson } from '../http-post.js';
import { renderContextLine } from '../templates.js';
import { truncateCodePoints } from '../text-limits.js';
import type { RenderedMessage } from '../types.js';

export const DISCORD_CHANNEL_TYPE = 'discord';
/** Discord embed limits (title 256, description 4096, 25 fields, name 256, value 1024, footer 2048, 6000 in total). */
export const DISCORD_LIMITS = {
  title: 256,
  description: 3000,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
} as const;
const COLOR = { info: 0x2eb67d, warning: 0xecb22e, critical: 0xe01e5a } as const;

export function renderDiscordPayload(m: RenderedMessage): unknown {
  return {
    username: 'dhash',
    // Never ping @everyone or roles from text that may quote user input.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: truncateCodePoints(m.title, DISCORD_LIMITS.title),
        description: truncateCodePoints(m.summary, DISCORD_LIMITS.description),
        color: COLOR[m.severity],
        timestamp: m.createdAt,
        fields: m.fields.slice(0, DISCORD_LIMITS.fields).map((f) => ({
          name: truncateCodePoints(f.label, DISCORD_LIMITS.fieldName),
          value: truncateCodePoints(f.value, DISCORD_LIMITS.fieldValue),
          inline: true,
        })),
        footer: { text: truncateCodePoints(renderContextLine(m), DISCORD_LIMITS.footer) },
      },
    ],
  };
}

export function createDiscordChannel(options: { webhookUrl: string }): NotificationChannel {
  return {
    type: DISCORD_CHANNEL_TYPE,
    render: renderDiscordPayload,
    send: (payload, { signal, idempotencyKey }) =>
      postJson(options.webhookUrl, payload, { variable: 'DISCORD_WEBHOOK', signal, idempotencyKey }),
  };
}
