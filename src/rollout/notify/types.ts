// The data shapes shared by the notifier, the channels, delivery and the outbox.
import type { ChannelName } from '../config/environments-schema.js';
import type { NotifyEventName, Severity } from './events.js';

export type { ChannelName };
export type Env = Record<string, string | undefined>;

/** What callers (CLI, deploy, monitor, rollback, incidents) hand to `Notifier.send`. */
export interface NotificationInput {
  event: NotifyEventName;
  release?: string;
  durationMs?: number;
  message?: string;
  deployId?: string;
  fields?: Record<string, string | number>;
  gate?: { name: string; value: number | string | null; threshold: number | string; window?: string; verdict: string };
}

export interface MessageField {
  label: string;
  value: string;
}

/** The one channel-neutral rendering of a notification (already redacted); every channel builds its payload from it. */
export interface RenderedMessage {
  id: string;
  /** Sent as the `Idempotency-Key` header and inside payloads that have room for it; reused by `notify flush`. */
  idempotencyKey: string;
  event: NotifyEventName;
  severity: Severity;
  env: string;
  title: string;
  summary: string;
  fields: MessageField[];
  createdAt: string;
  deployId?: string;
  release?: string;
  durationMs?: number;
  /** Stable per deploy (`dhash-<env>-<deployId>`): PagerDuty groups trigger and resolve by it. */
  dedupKey: string;
}

/** The result of one delivery attempt; channels return it instead of throwing. */
export type AttemptOutcome =
  | { ok: true; httpStatus?: number; detail?: string }
  | { ok: false; retryable: boolean; error: string; httpStatus?: number; retryAfter?: string };

export interface DeliveryAttempt {
  attempt: number;
  channel: string;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  httpStatus?: number;
  error?: string;
  /** The wait before the next attempt, when there was one. */
  waitMs?: number;
}

export interface Delivery {
  channel: ChannelName | 'none';
  status: 'delivered' | 'outboxed';
  attempts: number;
  error?: string;
  outboxFile?: string;
}

export interface NotifyReport {
  id: string;
  event: NotifyEventName;
  severity: Severity;
  deliveries: Delivery[];
  outboxFiles: string[];
}

/**
 * Lets tests (and progress displays) see attempts start and end, e.g. to advance a manual clock only when no request is
 * in flight.
 */
export interface DeliveryObserver {
  onAttemptStart?(channel: string, attempt: number): void;
  onAttemptEnd?(channel: string, attempt: number, outcome: AttemptOutcome): void;
  onDeliveryEnd?(channel: string, delivered: boolean): void;
}
