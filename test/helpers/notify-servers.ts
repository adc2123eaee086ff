// Local stand-ins for Slack, Teams, Discord, PagerDuty and generic
// webhooks (HTTP on 127.0.0.1:0) and an SMTP server with AUTH.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { ManualClock } from '../../src/lib/clock.js';
import type { AttemptOutcome, DeliveryObserver } from '../../src/rollout/notify/types.js';

type Cleanup = { after: (fn: () => Promise<void> | void) => void };

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

/** What the fake answers to request number `index` (0-based); 'hang' never answers (until the client aborts). */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface FakeWebhook {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

export const SLACK_OK: Reply = { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
export const SLACK_INVALID_PAYLOAD: Reply = {
  status: 400,
  body: 'invalid_payload',
  headers: { 'content-type': 'text/plain' },
};
export const TEAMS_ACCEPTED: Reply = { status: 202 };
export const DISCORD_NO_CONTENT: Reply = { status: 204 };
export const PAGERDUTY_ACCEPTED = (dedupKey = 'x'): Reply => ({
  status: 202,
  body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }),
  headers: { 'content-type': 'application/json' },
});

/** Starts a server answering each request with `reply(index, request)`; closed when the test ends. */
export async function startFakeWebhook(
  t: Cleanup,
  reply: (index: number, req: ReceivedRequest) => Reply,
  path = '/hook',
): Promise<FakeWebhook> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {}
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      requests.push(received);
      const r = reply(requests.length - 1, received);
      if (r === 'hang') return;
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return { url: `http://127.0.0.1:${port}${path}`, port, requests, close };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user?: string;
  raw: string;
}

/** A real SMTP server with AUTH PLAIN/LOGIN (no TLS, insecure auth allowed on loopback). */
export async function startFakeSmtp(
  t: Cleanup,
  credentials: { user: string; pass: string },
): Promise<{ port: number; mails: ReceivedMail[]; authFailures: number }> {
  const state = { port: 0, mails: [] as ReceivedMail[], authFailures: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass)
        return callback(null, { user: auth.username });
      state.authFailures++;
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.server.address() as AddressInfo).port;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}

/**
 * Counts attempts in flight, so a test advances the manual clock only
 * while every request is settled (only backoff sleeps are pending).
 */
export function createAttemptTracker(): DeliveryObserver & {
  inFlight: Map<string, number>;
  started: Map<string, number>;
  ends: { channel: string; delivered: boolean }[];
  outcomes: { channel: string; outcome: AttemptOutcome }[];
} {
  const inFlight = new Map<string, number>();
  const started = new Map<string, number>();
  const ends: { channel: string; delivered: boolean }[] = [];
  const outcomes: { channel: string; outcome: AttemptOutcome }[] = [];
  return {
    inFlight,
    started,
    ends,
    outcomes,
    onAttemptStart: (c) => {
      inFlight.set(c, (inFlight.get(c) ?? 0) + 1);
      started.set(c, (started.get(c) ?? 0) + 1);
    },
    onAttemptEnd: (c, _n, outcome) => {
      inFlight.set(c, (inFlight.get(c) ?? 0) - 1);
      outcomes.push({ channel: c, outcome });
    },
    onDeliveryEnd: (c, delivered) => void ends.push({ channel: c, delivered }),
  };
}

/**
 * Awaits `work` while moving the manual clock to the next sleeper whenever no attempt is in flight
 * (channels listed in `hungChannels` may stay in flight: their timeouts are clock sleeps too, so pass
 * `isReady` to hold the clock until the hung server has actually received each attempt).
 * Waits for real I/O with a real-time deadline, never a fixed sleep.
 */
export async function runWithClock<T>(
  clock: ManualClock,
  tracker: ReturnType<typeof createAttemptTracker>,
  work: Promise<T>,
  hungChannels: string[] = [],
  isReady: () => boolean = () => true,
  deadlineMs = 20_000,
): Promise<T> {
  let done = false;
  const guarded = work.finally(() => (done = true));
  const deadline = Date.now() + deadlineMs;
  while (!done) {
    await new Promise((r) => setTimeout(r, 2));
    const busy = [...tracker.inFlight].some(([c, n]) => n > 0 && !hungChannels.includes(c));
    if (!busy && isReady() && clock.pending() > 0) await clock.runNext();
    if (Date.now() > deadline) throw new Error('runWithClock: work did not finish before the real-time deadline');
  }
  return guarded;
}
