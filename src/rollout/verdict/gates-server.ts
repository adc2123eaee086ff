// `dhash gates serve`: an HTTP server answering Argo Rollouts' web metric provider and Flagger's webhooks with the
// gates judged now.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedGates } from '../config/quality-gates.js';
import type { Clock } from '../../lib/clock.js';
import type { Redactor } from '../../lib/redact.js';
import { getFlaggerStatus, judgeVerdict, type VerdictReport } from '../core/verdict.js';
import type { SignalSource } from '../signals/signal-source.js';
import type { Logger } from '../../lib/logger.js';
import { formatHostPort } from '../../lib/host-port.js';

export const VERDICT_PATH = '/v1/verdict';
export const FLAGGER_PATH = '/v1/flagger';
/** Flagger's payload is a few hundred bytes; anything much larger is not Flagger. */
const MAX_BODY_BYTES = 64 * 1024;

export interface GatesServerOptions {
  environment: ResolvedEnvironment;
  gates: ResolvedGates;
  source: SignalSource;
  clock: Clock;
  logger: Logger;
  redact: Redactor;
  /** The release the verdict is about; read on each request (e.g. the `current` link), undefined when unknown. */
  getReleaseId: () => Promise<string | undefined>;
  /** Per-request timeout of the source's requests. */
  timeoutMs?: number;
}

export interface RunningGatesServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Flagger's webhook payload (name, namespace, phase, metadata); every field is optional here, only logged. */
interface FlaggerPayload {
  name?: unknown;
  namespace?: unknown;
  phase?: unknown;
}

/**
 * One poll of the source, judged. Never throws for an unreachable service: that is a `fail` verdict (health not OK).
 */
export async function getVerdict(options: GatesServerOptions): Promise<VerdictReport> {
  const { gates } = options;
  const measurement = await options.source.measure({
    windows: { extractionMs: gates.extractionFailureRate.windowMs, p95Ms: gates.p95HashTime.windowMs },
    timeoutMs: options.timeoutMs ?? 5000,
  });
  return judgeVerdict({
    gates,
    measurement,
    nowMs: options.clock.now(),
    envName: options.environment.name,
    releaseId: await options.getReleaseId(),
  });
}

/** Listens on host:port (0 picks one); GET /v1/verdict, POST /v1/flagger, GET /health; everything else 404. */
export async function startGatesServer(
  options: GatesServerOptions & { host: string; port: number },
): Promise<RunningGatesServer> {
  const server = createServer((request, response) => {
    void handleRequest(options, request, response).catch((error: unknown) => {
      options.logger.error('gates request failed', {
        error: options.redact((error as Error).message ?? String(error)),
      });
      if (!response.headersSent)
        sendJson(response, 500, {
          error: { code: 'EINTERNAL', message: 'Judging the gates failed; the error is in the gates server log.' },
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${formatHostPort(options.host, port)}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function handleRequest(
  options: GatesServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/health' && request.method === 'GET') return sendJson(response, 200, { status: 'ok' });
  if (path === VERDICT_PATH && request.method === 'GET') {
    const report = await getVerdict(options);
    options.logger.info('verdict', { verdict: report.verdict, reason: options.redact(report.reason) });
    // Always 200 when judged: Argo's web provider treats any other status as a measurement error, not a verdict.
    return sendJson(response, 200, { data: report });
  }
  if (path === FLAGGER_PATH && request.method === 'POST') {
    let payload: FlaggerPayload;
    try {
      payload = parsePayload(await readBody(request));
    } catch (error) {
      return sendJson(response, 400, { error: { code: 'EBADREQUEST', message: (error as Error).message } });
    }
    const report = await getVerdict(options);
    const status = getFlaggerStatus(report);
    options.logger.info('flagger webhook', {
      canary: `${String(payload.namespace ?? '?')}/${String(payload.name ?? '?')}`,
      phase: String(payload.phase ?? '?'),
      verdict: report.verdict,
      status,
    });
    return sendJson(response, status, { data: report });
  }
  const isKnownPath = path === VERDICT_PATH || path === FLAGGER_PATH || path === '/health';
  return sendJson(response, isKnownPath ? 405 : 404, {
    error: isKnownPath
      ? {
          code: 'EMETHODNOTALLOWED',
          message: `${path} does not answer ${request.method}; use GET ${VERDICT_PATH} or POST ${FLAGGER_PATH}.`,
        }
      : {
          code: 'ENOTFOUND',
          message: `There is no route ${request.method} ${path}; use GET ${VERDICT_PATH} or POST ${FLAGGER_PATH}.`,
        },
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES)
      throw new Error(`The webhook body is over ${MAX_BODY_BYTES} bytes; Flagger sends a small JSON object.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An empty body is allowed (a manual `curl -X POST`); anything else must be a JSON object. */
function parsePayload(text: string): FlaggerPayload {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`The webhook body is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('Expected the webhook body to be a JSON object {"name", "namespace", "phase", "metadata"}.');
  return parsed as FlaggerPayload;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
