// LISTEN on the change channel: wakes the index follower as soon as another host commits a change.
import pg from 'pg';
import type { Clock } from '../../../lib/clock.js';
import { CHANGE_CHANNEL } from './pg-change-log.js';

export interface ChangeListener {
  /** Stops listening and closes the connection; idempotent. */
  close(): Promise<void>;
}

export interface ListenOptions {
  url: string;
  clock: Clock;
  onChange: () => void;
  /** Wait before reconnecting after the connection drops; default 1000. */
  reconnectDelayMs?: number;
}

/**
 * One dedicated connection (a pooled one cannot hold LISTEN). Only a hint: the follower still polls, so a dropped
 * connection costs latency (back to the poll interval), never a change; it reconnects until closed.
 */
export function listenForChanges(options: ListenOptions): ChangeListener {
  const stop = new AbortController();
  let client: pg.Client | undefined;
  const connectOnce = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.url, application_name: 'dhash-listen' });
    const dropped = new Promise<void>((resolve) => {
      next.on('error', () => resolve());
      next.on('end', () => resolve());
    });
    next.on('notification', () => options.onChange());
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGE_CHANNEL}`);
      // Changes committed while the connection was down are found by this poll.
      options.onChange();
      await dropped;
    } catch {
      // Unreachable now: retried below, and the follower's polls report the database's state.
    } finally {
      await next.end().catch(() => undefined);
    }
  };
  const loop = (async () => {
    while (!stop.signal.aborted) {
      await connectOnce();
      await options.clock.sleep(options.reconnectDelayMs ?? 1000, stop.signal).catch(() => undefined);
    }
  })();
  return {
    async close() {
      stop.abort();
      await client?.end().catch(() => undefined);
      await loop;
    },
  };
}
