// Generic JSON webhook (DEPLOY_WEBHOOK): the rendered message as a versioned JSON document, idempotency key inside.
import type { NotificationChannel } from '../index.js';
import { postJson } from '../http-post.js';
import { renderPlainText } from '../templates.js';
import type { RenderedMessage } from '../types.js';

export const WEBHOOK_CHANNEL_TYPE = 'webhook';

export function renderWebhookPayload(m: RenderedMessage): unknown {
  return { schema: 'dhash.notification/v1', ...m, text: renderPlainText(m) };
}

export function createWebhookChannel(options: { webhookUrl: string }): NotificationChannel {
  return {
    type: WEBHOOK_CHANNEL_TYPE,
    render: renderWebhookPayload,
    send: (payload, { signal, idempotencyKey }) =>
      postJson(options.webhookUrl, payload, { variable: 'DEPLOY_WEBHOOK', signal, idempotencyKey }),
  };
}
