// Which channels a notification goes to: the environment's routing for the event's severity, minus unconfigured
// channels.
import type { EnvironmentConfig } from '../config/environments-schema.js';
import { getEventSeverity, type NotifyEventName } from './events.js';
import { createChannel, type NotificationChannel } from './channels.js';
import type { ChannelName, Env } from './types.js';

/**
 * The routed channel names, in routing order. `rollback-success` also goes to PagerDuty whenever critical
 * events do, because it carries the `resolve` for the incident the violation triggered.
 */
export function getRoutedChannelNames(
  notifications: EnvironmentConfig['notifications'],
  event: NotifyEventName,
): ChannelName[] {
  const names = new Set<ChannelName>(notifications.routing[getEventSeverity(event)]);
  if (event === 'rollback-success' && notifications.routing.critical.includes('pagerduty')) names.add('pagerduty');
  return [...names];
}

/** The routed channels whose environment variables are set; throws EUNKNOWNCHANNEL only for an unknown type. */
export function selectChannels(
  notifications: EnvironmentConfig['notifications'],
  event: NotifyEventName,
  processEnv: Env,
): NotificationChannel[] {
  return getRoutedChannelNames(notifications, event)
    .map((name) => createChannel(name, processEnv))
    .filter((c): c is NotificationChannel => c !== undefined);
}
