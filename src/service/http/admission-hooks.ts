// Wires the AdmissionGate into fastify: admit before fastify (early-admission.ts) or at onRequest, both before the
// body is read; count chunked bytes as they stream.
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdmissionGate, AdmissionTicket, ShedReason } from './admission.js';
import type { AuthSettings } from './auth.js';
import { attachEarlyAdmission, takeEarlyTicket } from './early-admission.js';
import type { RequestLogger } from './request-logger.js';
import { createShedLog } from './shed-log.js';

export interface AdmissionReporting {
  metrics: { recordShed(route: string, reason: ShedReason): void };
  logger: RequestLogger;
  /** The service's API tokens, when it has them: only a request allowed on its route is decided before fastify. */
  auth?: AuthSettings;
}

const tickets = new WeakMap<FastifyRequest, AdmissionTicket>();
/** Requests sent with `Expect: 100-continue` whose client has been told to send the body. */
const continued = new WeakSet<FastifyRequest>();

/** The ticket of an admitted hashing request; undefined for routes the gate does not cover. */
export function getAdmissionTicket(request: FastifyRequest): AdmissionTicket | undefined {
  return tickets.get(request);
}

/**
 * `isHashingRequest` picks the requests that queue for a hashing slot. Those are admitted by Content-Length
 * before the body is read, so a refusal costs no body read; a body without one (chunked) is counted chunk by chunk
 * while it arrives. The ticket is closed when the response is finished or the connection drops, whichever is first.
 *
 * The upload routes are decided on the server's request event (early-admission.ts), a refusal answered there;
 * the onRequest hook takes the ticket of an admitted one, and admits itself whatever that shortcut did not decide
 * (refusing by throwing OverloadedError, which the error handler answers and counts).
 *
 * A client that sends `Expect: 100-continue` is asked for its body only once admitted, so a refusal costs
 * neither side an upload (Node's own 100 is stopped by the early listener on `checkContinue`).
 */
export function registerAdmission(
  app: FastifyInstance,
  gate: AdmissionGate,
  isHashingRequest: (request: FastifyRequest) => boolean,
  reporting: AdmissionReporting,
): void {
  const shedLog = createShedLog(reporting.logger);
  attachEarlyAdmission(app.server, {
    gate,
    auth: reporting.auth,
    recordShed: (route, reason) => {
      reporting.metrics.recordShed(route, reason);
      shedLog.record(route, reason);
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const early = takeEarlyTicket(request.raw);
    if (!isHashingRequest(request)) {
      // The shortcut's route table and the routes' config disagree: the routes are right.
      early?.close();
      return;
    }
    if (early) {
      tickets.set(request, early);
      return;
    }
    const ticket = gate.admit(getDeclaredBytes(request));
    tickets.set(request, ticket);
    reply.raw.once('close', () => ticket.close());
  });

  app.addHook('preParsing', async (request, reply, payload) => {
    if (isExpectingContinue(request)) {
      continued.add(request);
      reply.raw.writeContinue();
    }
    const ticket = tickets.get(request);
    if (!ticket || request.headers['content-length'] !== undefined) return payload;
    const counter = createByteCounter(ticket);
    // pipe() does not forward errors: a client that drops mid-upload must still end the body read.
    payload.once('error', (error) => counter.destroy(error));
    return payload.pipe(counter);
  });

  // Answered before its body was asked for:
  // the client will not send it, so the connection cannot carry another request.
  app.addHook('onSend', async (request, reply) => {
    if (isExpectingContinue(request) && !continued.has(request)) reply.header('connection', 'close');
  });
}

function isExpectingContinue(request: FastifyRequest): boolean {
  return request.headers.expect?.toLowerCase() === '100-continue';
}

function getDeclaredBytes(request: FastifyRequest): number {
  const header = request.headers['content-length'];
  const bytes = header === undefined ? 0 : Number(header);
  // A malformed length is fastify's to refuse (400) when it reads the body; it reserves nothing here.
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

function createByteCounter(ticket: AdmissionTicket): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        ticket.addBytes(chunk.length);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
