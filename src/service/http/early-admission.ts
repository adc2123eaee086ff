// Admission for hashing uploads decided on the Node server's own request event, before fastify sees the request:
// a refusal is a precomputed 503 EOVERLOADED; an admitted request goes on to fastify holding its ticket.
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AuthSettings } from './auth.js';
import { findToken, getRequiredScope, readBearerToken } from './auth.js';
import { SCOPE_RANK } from './auth-tokens.js';
import {
  describeOverload,
  type AdmissionGate,
  type AdmissionRefusal,
  type AdmissionTicket,
  type ShedReason,
} from './admission.js';

export interface EarlyAdmissionOptions {
  gate: AdmissionGate;
  /** Counts one refusal (dhash_requests_shed_total{route, reason}); called once per refused request. */
  recordShed(route: string, reason: ShedReason): void;
  /** When set, only a request whose token may use the route is decided here; fastify's auth hook answers the rest. */
  auth?: AuthSettings;
}

/**
 * The upload routes that queue for a hashing slot, as server.ts declares them (`config.extraction`): 'image-body'
 * routes hash only a non-JSON body. A request this table misses (an encoded path, a new route) is still admitted
 * by the fastify hook in admission-hooks.ts, so the table is a shortcut, never the only gate.
 */
const HASHING_ROUTES: ReadonlyMap<string, 'always' | 'image-body'> = new Map([
  ['/v1/hash', 'always'],
  ['/v1/extract', 'always'],
  ['/v1/match', 'always'],
  ['/v1/library', 'image-body'],
]);

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Tickets of requests admitted here, until the fastify hook takes them. */
const earlyTickets = new WeakMap<IncomingMessage, AdmissionTicket>();

/** The ticket this request was admitted with before fastify, once; undefined when it was not decided early. */
export function takeEarlyTicket(request: IncomingMessage): AdmissionTicket | undefined {
  const ticket = earlyTickets.get(request);
  earlyTickets.delete(request);
  return ticket;
}

/**
 * Puts the early decision in front of fastify's request listener (the only one on a fastify server), for plain
 * requests and for `Expect: 100-continue` ones. Node answers `100 Continue` by itself unless `checkContinue` has
 * a listener: with this one, the body is asked for only once admitted (the preParsing hook in admission-hooks.ts).
 *
 * Why before fastify: under a flood most arrivals are refused, and each refusal through fastify (routing, hooks,
 * an Error with its stack, the error handler, a JSON reply, two log lines) cost ~0.4 ms of the CPU the hashing
 * jobs need. Here it is a map lookup, the gate, a counter and one write of cached bytes.
 */
export function attachEarlyAdmission(server: Server, options: EarlyAdmissionOptions): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) {
    throw new Error(`Expected the one request listener fastify registers, found ${listeners.length}.`);
  }
  const [handleWithFastify] = listeners;
  server.removeListener('request', handleWithFastify);
  const handle: RequestListener = (request, response) => {
    if (!shedEarly(request, response, options)) handleWithFastify(request, response);
  };
  server.on('request', handle);
  server.on('checkContinue', handle);
}

/** True when the request was refused and answered here; false when fastify is to handle it (admitted or not ours). */
function shedEarly(request: IncomingMessage, response: ServerResponse, options: EarlyAdmissionOptions): boolean {
  if (request.method !== 'POST') return false;
  const url = request.url ?? '';
  const queryAt = url.indexOf('?');
  const route = queryAt === -1 ? url : url.slice(0, queryAt);
  const kind = HASHING_ROUTES.get(route);
  if (kind === undefined || (kind === 'image-body' && isJsonBody(request.headers))) return false;
  // A caller without a token that may use the route is fastify's to refuse (401/403), and it never takes a slot.
  if (options.auth && !isAuthorized(request.headers, route, options.auth)) return false;
  const outcome = options.gate.tryAdmit(getDeclaredBytes(request.headers));
  if ('ticket' in outcome) {
    const { ticket } = outcome;
    earlyTickets.set(request, ticket);
    // Closed when the answer is finished or the connection drops, whichever comes first; close is idempotent.
    response.once('close', () => ticket.close());
    return false;
  }
  options.recordShed(route, outcome.reason);
  writeRefusal(response, outcome, isExpectingContinue(request.headers));
  return true;
}

function isAuthorized(headers: IncomingHttpHeaders, route: string, auth: AuthSettings): boolean {
  const required = getRequiredScope('POST', route, auth.shouldProtectProbes === true);
  if (required === undefined) return true;
  const presented = readBearerToken({ headers });
  const token = presented === undefined ? undefined : findToken(auth.tokens, presented);
  return token !== undefined && SCOPE_RANK[token.scope] >= SCOPE_RANK[required];
}

function isJsonBody(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

function isExpectingContinue(headers: IncomingHttpHeaders): boolean {
  return headers.expect?.toLowerCase() === '100-continue';
}

function getDeclaredBytes(headers: IncomingHttpHeaders): number {
  const header = headers['content-length'];
  const bytes = header === undefined ? 0 : Number(header);
  // A malformed length is fastify's to refuse (400) when it reads the body; it reserves nothing here.
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

interface CachedRefusal {
  headers: Record<string, string>;
  body: Buffer;
}

/** By reason, Retry-After and connection handling: at most 2 × 20 × 2 entries (Retry-After is capped). */
const cachedRefusals = new Map<string, CachedRefusal>();

/**
 * The same status, headers and body fastify's error handler gives an OverloadedError. A client that sent
 * `Expect: 100-continue` was not asked for its body and will not send it, so the connection cannot carry another
 * request: `connection: close`. Any other client's body is read and dropped by Node (it is already on its way), and
 * the connection stays open: closing on unread bytes would reset it, and the client could lose the 503.
 */
function writeRefusal(response: ServerResponse, refusal: AdmissionRefusal, shouldClose: boolean): void {
  const key = `${refusal.reason} ${refusal.retryAfterSeconds} ${shouldClose}`;
  let cached = cachedRefusals.get(key);
  if (cached === undefined) {
    const body = Buffer.from(
      JSON.stringify({
        error: { code: 'EOVERLOADED', message: describeOverload(refusal.reason, refusal.retryAfterSeconds) },
      }),
    );
    const headers: Record<string, string> = {
      'retry-after': String(refusal.retryAfterSeconds),
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
    };
    if (shouldClose) headers.connection = 'close';
    cached = { headers, body };
    cachedRefusals.set(key, cached);
  }
  response.writeHead(503, cached.headers);
  response.end(cached.body);
}
