// Delivers one payload to one channel: per-attempt timeout, exponential backoff with jitter, Retry-After, an attempt
// budget.
import type { Clock } from '../../lib/clock.js';
import type { NotificationChannel } from './index.js';
import type { Redactor } from '../../lib/redact.js';
import type { Logger } from '../../lib/logger.js';
import type { AttemptOutcome, DeliveryAttempt, DeliveryObserver, Env } from './types.js';

/** What every sender (the notifier and the outbox flush) needs: where, which settings, time, and the test seams. */
export interface DeliverySettings {
  projectRoot: string;
  /** Environment variables: channel settings and secrets come only from here. */
  processEnv: Env;
  clock: Clock;
  logger?: Logger;
  policy?: Partial<DeliveryPolicy>;
  /** The backoff jitter's source; tests pass a fixed one. */
  random?: () => number;
  observer?: DeliveryObserver;
  redact?: Redactor;
}

export interface DeliveryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Each attempt is aborted after this long (clock time). */
  attemptTimeoutMs: number;
  /** The first backoff before jitter; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The most one channel may spend waiting between attempts; a Retry-After beyond it ends the retries. */
  maxTotalWaitMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 4,
  attemptTimeoutMs: 10_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxTotalWaitMs: 30_000,
};

export interface DeliveryResult {
  channel: string;
  delivered: boolean;
  attempts: DeliveryAttempt[];
  /** The last error, with why retrying stopped. */
  error?: string;
  /** The clock time the delivery finished (delivered or given up). */
  finishedAtMs: number;
}

export interface DeliverOptions {
  channel: NotificationChannel;
  payload: unknown;
  idempotencyKey: string;
  clock: Clock;
  policy?: Partial<DeliveryPolicy>;
  /** Returns a number in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
  observer?: DeliveryObserver;
}

/** "Retry-After: 2" or an HTTP-date → milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Equal jitter: half the exponential delay fixed, half random, so retries from many senders spread out. */
export function getBackoffDelayMs(attempt: number, policy: DeliveryPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * Never throws. Retries network errors, timeouts, 5xx and 429 (waiting what Retry-After asks), never other
 * 4xx. Stops at the attempt budget or when the next wait would exceed maxTotalWaitMs.
 */
export async function deliverWithRetry(options: DeliverOptions): Promise<DeliveryResult> {
  const policy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
  const { channel, clock, observer } = options;
  // Only the backoff jitter is random: spreading retries keeps many deployers from hammering a webhook in step.
  const jitterRandom = options.random ?? Math.random;
  const attempts: DeliveryAttempt[] = [];
  let waitedMs = 0;
  for (let n = 1; ; n++) {
    const startedAtMs = clock.now();
    observer?.onAttemptStart?.(channel.type, n);
    const outcome = await attemptOnce(options, policy.attemptTimeoutMs);
    observer?.onAttemptEnd?.(channel.type, n, outcome);
    const record: DeliveryAttempt = {
      attempt: n,
      channel: channel.type,
      startedAt: new Date(startedAtMs).toISOString(),
      durationMs: clock.now() - startedAtMs,
      ok: outcome.ok,
      ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
      ...(!outcome.ok ? { error: outcome.error } : {}),
    };
    attempts.push(record);
    const finish = (delivered: boolean, error?: string): DeliveryResult => {
      observer?.onDeliveryEnd?.(channel.type, delivered);
      return { channel: channel.type, delivered, attempts, ...(error ? { error } : {}), finishedAtMs: clock.now() };
    };
    if (outcome.ok) return finish(true);
    if (!outcome.retryable) {
      return finish(
        false,
        `${outcome.error} (not retried` +
          `${outcome.httpStatus !== undefined ? ': the receiver rejected the request' : ''})`,
      );
    }
    if (n >= policy.maxAttempts) return finish(false, `${outcome.error} (gave up after ${n} attempts)`);
    const retryAfterMs = parseRetryAfterMs(outcome.retryAfter, clock.now());
    const waitMs = retryAfterMs ?? getBackoffDelayMs(n, policy, jitterRandom);
    if (waitedMs + waitMs > policy.maxTotalWaitMs) {
      return finish(
        false,
        `${outcome.error} (gave up after ${n} attempt${n === 1 ? '' : 's'}: ` +
          `waiting ${waitMs} ms more would pass the ${policy.maxTotalWaitMs} ms retry budget)`,
      );
    }
    record.waitMs = waitMs;
    waitedMs += waitMs;
    await clock.sleep(waitMs);
  }
}

/**
 * One attempt bounded by the clock: the timeout aborts the channel's request; its sleeper is cancelled as soon as the
 * attempt ends.
 */
async function attemptOnce(options: DeliverOptions, timeoutMs: number): Promise<AttemptOutcome> {
  const request = new AbortController();
  const timer = new AbortController();
  let timedOut = false;
  options.clock.sleep(timeoutMs, timer.signal).then(
    () => {
      timedOut = true;
      request.abort(new Error(`timed out after ${timeoutMs} ms`));
    },
    () => {},
  );
  let outcome: AttemptOutcome;
  try {
    outcome = await options.channel.send(options.payload, {
      signal: request.signal,
      idempotencyKey: options.idempotencyKey,
    });
  } catch (error) {
    // A channel should not throw; if one does, treat it like a network error rather than losing the notification.
    outcome = {
      ok: false,
      retryable: true,
      error: `channel error: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    timer.abort();
  }
  if (timedOut && !outcome.ok) return { ok: false, retryable: true, error: `timed out after ${timeoutMs} ms` };
  return outcome;
}
