// Wires the AdmissionGate into fastify:
// admit at onRequest (before the body is read), count chunked bytes as they stream.
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdmissionGate, AdmissionTicket } from './admission.js';

const tickets = new WeakMap<FastifyRequest, AdmissionTicket>();
/** Requests sent with `Expect: 100-continue` whose client has been told to send the body. */
const continued = new WeakSet<FastifyRequest>();

/** The ticket of an admitted hashing request; undefined for routes the gate does not cover. */
export function getAdmissionTicket(request: FastifyRequest): AdmissionTicket | undefined {
  return tickets.get(request);
}

/**
 * `isHashingRequest` picks the requests that queue for a hashing slot. Those are admitted by Content-Length at
 * onRequest, so a refusal costs no body read; a body without one (chunked) is counted chunk by chunk while it
 * arrives. The ticket is closed when the response is finished or the connection drops, whichever comes first.
 *
 * A client that sends `Expect: 100-continue` is asked for its body only once admitted, so a refusal costs
 * neither side an upload. Node would answer 100 itself before any hook runs; the listener below stops that.
 */
export function registerAdmission(
  app: FastifyInstance,
  gate: AdmissionGate,
  isHashingRequest: (request: FastifyRequest) => boolean,
): void {
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));

  app.addHook('onRequest', async (request, reply) => {
    if (!isHashingRequest(request)) return;
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
