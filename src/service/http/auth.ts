// Bearer-token access control: one onRequest hook and one route → scope table for every route of the service.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createError } from '../../lib/errors.js';
import { digestToken, SCOPE_RANK, type ApiToken, type TokenScope } from './auth-tokens.js';

export interface AuthSettings {
  tokens: ApiToken[];
  /** Put `read` on /health and /metrics too (they are open by default, for probes and scrapers). */
  shouldProtectProbes?: boolean;
}

/** `probe` is open unless probes are protected, then `read`. */
type RouteAccess = TokenScope | 'probe';

/**
 * Keyed by method and route pattern. A route missing here needs `admin`, so a new route is closed until it is listed;
 * a path with no route at all needs `read`, so a caller without a token learns nothing about which paths exist.
 */
export const ROUTE_SCOPES: Readonly<Record<string, RouteAccess>> = {
  'GET /health': 'probe',
  'GET /metrics': 'probe',
  'POST /v1/hash': 'read',
  'POST /v1/extract': 'read',
  'POST /v1/match': 'read',
  'GET /v1/library': 'read',
  'GET /v1/review': 'read',
  'POST /v1/library': 'write',
  'DELETE /v1/library/:id': 'write',
  'POST /v1/review/:id/resolve': 'write',
};

const UNMATCHED_ROUTE_SCOPE: TokenScope = 'read';
const UNLISTED_ROUTE_SCOPE: TokenScope = 'admin';

/**
 * The scope a request needs, or undefined when it is open.
 * HEAD is answered by the GET route, so it needs what GET needs.
 */
export function getRequiredScope(
  method: string,
  routeUrl: string | undefined,
  shouldProtectProbes: boolean,
): TokenScope | undefined {
  if (routeUrl === undefined) return UNMATCHED_ROUTE_SCOPE;
  const access = ROUTE_SCOPES[`${method === 'HEAD' ? 'GET' : method} ${routeUrl}`] ?? UNLISTED_ROUTE_SCOPE;
  if (access === 'probe') return shouldProtectProbes ? 'read' : undefined;
  return access;
}

/**
 * The token whose digest equals the presented one's. Every configured digest is compared (no early exit), each
 * comparison is timingSafeEqual over 32 bytes, so the time taken says neither which token nor how long it is.
 */
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const digest = digestToken(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, digest) && !found) found = token;
  }
  return found;
}

/** The credentials of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750), else undefined. */
export function readBearerToken(request: { headers: { authorization?: string } }): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Registers the hook. It must run before admission control, so a request without a valid token never takes a
 * hashing slot, and it answers itself rather than throwing: the error handler would count a refused upload as a
 * failed extraction, and anyone without a token could then push the extraction gate over and force a rollback.
 */
export function registerAuth(app: FastifyInstance, settings: AuthSettings): void {
  const shouldProtectProbes = settings.shouldProtectProbes === true;
  app.addHook('onRequest', async (request, reply) => {
    const routeUrl = request.routeOptions.url;
    const required = getRequiredScope(request.method, routeUrl, shouldProtectProbes);
    if (!required) return;
    const route = `${request.method} ${routeUrl ?? request.url.split('?')[0]}`;
    const presented = readBearerToken(request);
    const token = presented === undefined ? undefined : findToken(settings.tokens, presented);
    if (!token) {
      const reason = presented === undefined ? 'missing' : 'unknown';
      // RFC 6750 §3: no error attribute when no credentials were sent, invalid_token when they were wrong.
      reply.header(
        'www-authenticate',
        reason === 'missing' ? 'Bearer realm="dhash"' : 'Bearer realm="dhash", error="invalid_token"',
      );
      return refuse(reply, 401, createError('EUNAUTHORIZED', { route, reason }));
    }
    if (SCOPE_RANK[token.scope] < SCOPE_RANK[required]) {
      reply.header('www-authenticate', `Bearer realm="dhash", error="insufficient_scope", scope="${required}"`);
      return refuse(
        reply,
        403,
        createError('EFORBIDDEN', { tokenName: token.name, scope: token.scope, required, route }),
      );
    }
  });
}

function refuse(reply: FastifyReply, statusCode: number, error: { code: string; message: string }): FastifyReply {
  return reply.code(statusCode).send({ error: { code: error.code, message: error.message } });
}
