// Notification channels and the notifier. Only re-exports, so no module imports its own parent at load time:
// the channel interface and factory are in channels.ts.
export { CHANNEL_VARIABLES, createChannel, type NotificationChannel } from './channels.js';
export { createNotifier, type Notifier, type NotifierOptions } from './notifier.js';
export { flushOutbox, type FlushResult } from './outbox/flush.js';
export {
  NOTIFY_EVENTS,
  SEVERITIES,
  EVENT_DEFINITIONS,
  isNotifyEventName,
  getEventSeverity,
  type NotifyEventName,
  type Severity,
} from './events.js';
export type { NotificationInput, NotifyReport, Delivery, RenderedMessage } from './types.js';
