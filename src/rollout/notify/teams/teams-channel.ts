// Microsoft Teams Workflows webhook: a message with one Adaptive Card 1.4 attachment; any 2xx (202 with no body) is
// success.
import type { NotificationChannel } from '../index.js';
import { postJson } from '../http-post.js';
import { renderContextLine } from '../templates.js';
import { truncateCodePoints } from '../text-limits.js';
import type { RenderedMessage } from '../types.js';

export const TEAMS_CHANNEL_TYPE = 'teams';
/** Teams rejects messages above 28 KB; these caps keep a card well under it. */
const MAX_SUMMARY = 4000;
const MAX_FACT_VALUE = 1000;

const COLOR = { info: 'Good', warning: 'Warning', critical: 'Attention' } as const;

export function renderTeamsPayload(m: RenderedMessage): unknown {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            {
              type: 'TextBlock',
              text: m.title,
              weight: 'Bolder',
              size: 'Medium',
              wrap: true,
              color: COLOR[m.severity],
            },
            { type: 'TextBlock', text: truncateCodePoints(m.summary, MAX_SUMMARY), wrap: true },
            {
              type: 'FactSet',
              facts: m.fields.map((f) => ({ title: f.label, value: truncateCodePoints(f.value, MAX_FACT_VALUE) })),
            },
            { type: 'TextBlock', text: renderContextLine(m), isSubtle: true, size: 'Small', wrap: true },
          ],
        },
      },
    ],
  };
}

export function createTeamsChannel(options: { webhookUrl: string }): NotificationChannel {
  return {
    type: TEAMS_CHANNEL_TYPE,
    render: renderTeamsPayload,
    send: (payload, { signal, idempotencyKey }) =>
      postJson(options.webhookUrl, payload, { variable: 'TEAMS_WEBHOOK', signal, idempotencyKey }),
  };
}
