// The NotificationChannel interface and the one factory switch choosing a channel by type (configured from the
// environment).
import { CHANNEL_NAMES, type ChannelName } from '../config/environments-schema.js';
import { createError } from '../../lib/errors.js';
import { createDiscordChannel, DISCORD_CHANNEL_TYPE } from './discord/discord-channel.js';
import { createEmailChannel, EMAIL_CHANNEL_TYPE } from './email/email-channel.js';
import { createPagerDutyChannel, PAGERDUTY_CHANNEL_TYPE } from './pagerduty/pagerduty-channel.js';
import { createSlackChannel, SLACK_CHANNEL_TYPE } from './slack/slack-channel.js';
import { createTeamsChannel, TEAMS_CHANNEL_TYPE } from './teams/teams-channel.js';
import type { AttemptOutcome, Env, RenderedMessage } from './types.js';
import { createWebhookChannel, WEBHOOK_CHANNEL_TYPE } from './webhook/webhook-channel.js';

export interface NotificationChannel {
  readonly type: ChannelName;
  /**
   * Builds this channel's payload from the rendered message. Pure and deterministic; holds no secret
   * (webhook URLs and routing keys are added by `send`), so the payload may be written to the outbox.
   */
  render(message: RenderedMessage): unknown;
  /**
   * Makes ONE delivery attempt of a payload made by `render`. Never throws: problems come back as an
   * outcome saying whether a retry may help. Stops promptly when `signal` aborts (the per-attempt
   * timeout). Not idempotent by itself: receivers dedupe by `idempotencyKey` where their protocol allows.
   */
  send(payload: unknown, options: { signal: AbortSignal; idempotencyKey: string }): Promise<AttemptOutcome>;
}

/**
 * The channel of `type` configured from environment variables, or undefined when its variables are
 * unset (an unconfigured channel is simply not used). Throws EUNKNOWNCHANNEL for a type it does not know.
 */
export function createChannel(type: string, processEnv: Env): NotificationChannel | undefined {
  switch (type) {
    case SLACK_CHANNEL_TYPE:
      return processEnv.SLACK_WEBHOOK ? createSlackChannel({ webhookUrl: processEnv.SLACK_WEBHOOK }) : undefined;
    case TEAMS_CHANNEL_TYPE:
      return processEnv.TEAMS_WEBHOOK ? createTeamsChannel({ webhookUrl: processEnv.TEAMS_WEBHOOK }) : undefined;
    case DISCORD_CHANNEL_TYPE:
      return processEnv.DISCORD_WEBHOOK ? createDiscordChannel({ webhookUrl: processEnv.DISCORD_WEBHOOK }) : undefined;
    case WEBHOOK_CHANNEL_TYPE:
      return processEnv.DEPLOY_WEBHOOK ? createWebhookChannel({ webhookUrl: processEnv.DEPLOY_WEBHOOK }) : undefined;
    case PAGERDUTY_CHANNEL_TYPE:
      return processEnv.PAGERDUTY_ROUTING_KEY
        ? createPagerDutyChannel({
            routingKey: processEnv.PAGERDUTY_ROUTING_KEY,
            url: processEnv.PAGERDUTY_URL || undefined,
          })
        : undefined;
    case EMAIL_CHANNEL_TYPE:
      return (processEnv.EMAIL_SMTP_URL || processEnv.EMAIL_HOST) && processEnv.EMAIL_TO
        ? createEmailChannel(processEnv)
        : undefined;
    default:
      throw createError('EUNKNOWNCHANNEL', { type, known: CHANNEL_NAMES });
  }
}

/** The variables that configure each channel, for messages like "SLACK_WEBHOOK is not set". */
export const CHANNEL_VARIABLES: Record<ChannelName, string> = {
  slack: 'SLACK_WEBHOOK',
  teams: 'TEAMS_WEBHOOK',
  discord: 'DISCORD_WEBHOOK',
  webhook: 'DEPLOY_WEBHOOK',
  pagerduty: 'PAGERDUTY_ROUTING_KEY',
  email: 'EMAIL_SMTP_URL or EMAIL_HOST, and EMAIL_TO',
};
