// The dhash HTTP API: every route of the service,
// and nothing but routes (the work lives in hash/, pdf/, library/, review/).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { ServiceStore } from './store/service-store.js';
import { hashImage, isHashMode, type HashMode, type ImageHash } from './hash/hash-image.js';
import { extractPdfImages, getPdfCapability } from './pdf/index.js';
import type { ServiceMetrics } from './metrics.js';
import { ApiError, toErrorAnswer } from './http/api-error.js';
import { isJsonRequest, readUpload, registerBodyParsers } from './http/body-parsers.js';
import type { RequestLogger } from './http/request-logger.js';
import { AdmissionGate, DEFAULT_ADMISSION_LIMITS, isOverloadedError, type AdmissionLimits } from './http/admission.js';
import { getAdmissionTicket, registerAdmission } from './http/admission-hooks.js';
import { registerAuth, type AuthSettings } from './http/auth.js';
import { DEFAULT_LIMITS, type ServiceLimits } from './service-limits.js';
import type { HashIndex } from './library/index.js';
import type { IndexSyncState } from './library/index-sync.js';
import type { ReviewStatus, ReviewVerdict } from './review/index.js';
import { findMatches } from './find-matches.js';

export interface ServerDependencies {
  /** The library, the review queue and the change log, on SQLite or PostgreSQL (same answers from both). */
  store: ServiceStore;
  /**
   * The in-memory search index over the library table: a route applies its own change at once, the index follower
   * (library/index-sync.ts) applies everyone else's.
   */
  index: HashIndex;
  /** The index follower's state, reported by /health (absent: no follower, nothing reported). */
  sync?: { getState(): IndexSyncState };
  metrics: ServiceMetrics;
  logger: RequestLogger;
  version: string;
  limits?: Partial<ServiceLimits>;
  /** Bounds on hashing work (jobs in flight, body bytes held, queue wait); see http/admission.ts for the defaults. */
  admission?: Partial<AdmissionLimits>;
  /** API tokens and which routes need them (http/auth.ts); without it every route is open (loopback only). */
  auth?: AuthSettings;
}

/** Which routes hash what they receive: their bad input counts as a failed extraction. */
type ExtractionKind = 'always' | 'image-body';
declare module 'fastify' {
  interface FastifyContextConfig {
    extraction?: ExtractionKind;
  }
}

export function createServer(deps: ServerDependencies): FastifyInstance {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const { store, index, metrics } = deps;
  // Best effort: the gauge is re-read at every scrape, and a database error is /health's to report.
  const updateQueueGauge = () =>
    store.countPendingReviews().then(
      (count) => metrics.setQueueLength(count),
      () => undefined,
    );
  void updateQueueGauge();
  const app = Fastify({
    // Our pino (10) and fastify's bundled pino types differ only nominally; the instance is what fastify expects.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // One line per request from the onResponse hook below instead of fastify's two (which include the request object).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  registerBodyParsers(app);
  // Before admission: a request without a valid token never takes a hashing slot.
  if (deps.auth) registerAuth(app, deps.auth);
  const gate = new AdmissionGate({ ...DEFAULT_ADMISSION_LIMITS, ...deps.admission });
  metrics.observeAdmission(() => gate.state);
  // Only hashing work queues: /health, /metrics and the JSON routes never wait behind it.
  registerAdmission(app, gate, isExtractionRequest, { metrics, logger: deps.logger, auth: deps.auth });
  // Probe poppler now (cached, never rejects) so the first /health does not pay for spawning `pdfimages -v`.
  void getPdfCapability(limits.pdfimagesCommand);
  // Requests whose extraction attempt is already on the counter (success or failure), so errors are not counted twice.
  const counted = new WeakSet<FastifyRequest>();
  // The API error code of a failed request, for its log line (the body itself is never logged).
  const errorCodes = new WeakMap<FastifyRequest, string>();

  const hashUpload = (request: FastifyRequest, bytes: Buffer, mode: HashMode): Promise<ImageHash> =>
    runHashingJob(request, async () => {
      counted.add(request);
      const startedMs = performance.now();
      try {
        const result = await hashImage(bytes, { mode, maxPixels: limits.maxPixels });
        metrics.recordExtraction('success', (performance.now() - startedMs) / 1000);
        return result;
      } catch (error) {
        metrics.recordExtraction('failure');
        throw error;
      }
    });

  app.addHook('onResponse', async (request, reply) => {
    const durationMs = Math.round(reply.elapsedTime * 1000) / 1000;
    const errorCode = errorCodes.get(request);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        durationMs,
        ...(errorCode ? { errorCode } : {}),
      },
      'request completed',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (isOverloadedError(error)) {
      // Refused for capacity, not for its content: a shed, never an extraction failure.
      metrics.recordShed(request.routeOptions.url ?? request.url.split('?')[0], error.reason);
      reply.header('retry-after', String(error.retryAfterSeconds));
    } else if (isExtractionRequest(request) && !counted.has(request)) metrics.recordExtraction('failure');
    const answer = toErrorAnswer(error);
    errorCodes.set(request, answer.body.error.code);
    // A shed is the service working as designed: its stack says nothing, and a flood of them would bury real faults.
    if (answer.isServerFault && !isOverloadedError(error)) request.log.error({ err: error }, 'request failed');
    return reply.code(answer.statusCode).send(answer.body);
  });

  app.setNotFoundHandler(async (request, reply) => {
    errorCodes.set(request, 'ENOTFOUND');
    return reply.code(404).send({
      error: { code: 'ENOTFOUND', message: `There is no route ${request.method} ${request.url.split('?')[0]}.` },
    });
  });

  app.get('/health', async (_request, reply) => {
    const [pdf, database] = await Promise.all([getPdfCapability(limits.pdfimagesCommand), store.checkSchema()]);
    const sync = deps.sync?.getState();
    const checks = { database: database.ok ? 'ok' : 'failed', pdf: pdf.status, ...(sync ? { sync: sync.status } : {}) };
    const about = { version: deps.version, engine: store.engine };
    if (!database.ok) {
      return reply
        .code(503)
        .send({ status: 'unhealthy', failing: 'database', ...about, checks, detail: database.detail });
    }
    const syncState = sync ? { sync: { seq: sync.seq, lagMs: sync.lagMs } } : {};
    // A stale index answers `none` where another host answers `match`: out of rotation until it catches up.
    if (sync && sync.status !== 'ok') {
      const detail = sync.detail ?? `index sync ${sync.status}`;
      return reply.code(503).send({ status: 'unhealthy', failing: 'sync', ...about, checks, detail, ...syncState });
    }
    return { status: 'ok', ...about, schemaVersion: database.schemaVersion, checks, ...syncState };
  });

  app.get('/metrics', async (_request, reply) => {
    // Re-read at scrape time so the gauge also reflects queue changes made outside this process (another host, a
    // restore). A broken database must not take the metrics down with it; /health reports it.
    await updateQueueGauge();
    const { contentType, body } = await metrics.getExposition();
    return reply.type(contentType).send(body);
  });

  // Upload routes take image or PDF bytes only: without the JSON parser here, a JSON body gets 415, not a parse error.
  void app.register(async (uploads) => {
    uploads.removeContentTypeParser('application/json');

    uploads.post('/v1/hash', { config: { extraction: 'always' } }, async (request) => {
      const mode = readMode(request);
      const bytes = readUpload(request, 'image');
      return { ...(await hashUpload(request, bytes, mode)), mode };
    });

    uploads.post('/v1/extract', { config: { extraction: 'always' } }, async (request) => {
      const mode = readMode(request);
      const bytes = readUpload(request, 'pdf');
      const images = await runHashingJob(request, () =>
        extractPdfImages(bytes, {
          maxPixels: limits.maxPixels,
          timeoutMs: limits.pdfTimeoutMs,
          mode,
          pdfimagesCommand: limits.pdfimagesCommand,
          onAttempt: (outcome, seconds) => {
            counted.add(request);
            metrics.recordExtraction(outcome, seconds);
          },
        }),
      );
      return { images: images.map(({ page, index, width, height, hash }) => ({ page, index, width, height, hash })) };
    });

    uploads.post('/v1/match', { config: { extraction: 'always' } }, async (request) => {
      const mode = readMode(request);
      const { label } = request.query as { label?: string };
      const { hash } = await hashUpload(request, readUpload(request, 'image'), mode);
      const outcome = await findMatches({
        store,
        index,
        hash,
        thresholds: limits.matchThresholds,
        limit: limits.maxMatches,
        queryLabel: label,
      });
      if (outcome.reviewId !== undefined) await updateQueueGauge();
      return { hash, ...outcome };
    });
  });

  app.post('/v1/library', { config: { extraction: 'image-body' } }, async (request, reply) => {
    let input: { label: unknown; hash: unknown; source: string };
    if (isJsonRequest(request)) {
      const body = request.body as { label?: unknown; hash?: unknown } | null;
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new ApiError(400, 'EBADREQUEST', 'Expected a JSON object {"label": "…", "hash": "<16 hex>"}.');
      input = { label: body.label, hash: body.hash, source: 'api' };
    } else {
      const { label } = request.query as { label?: string };
      // Checked before hashing so a missing label costs no decode.
      if (typeof label !== 'string' || label.trim() === '')
        throw new ApiError(400, 'EBADREQUEST', 'Expected a `label` query parameter naming the image.');
      const { hash } = await hashUpload(request, readUpload(request, 'image'), readMode(request));
      input = { label, hash, source: 'image' };
    }
    const entry = await store.addLibraryEntry(input as { label: string; hash: string; source: string });
    index.add(entry.id, entry.hash);
    return reply.code(201).send(entry);
  });

  app.get('/v1/library', async (request) => store.listLibraryEntries(readPaging(request)));

  app.delete('/v1/library/:id', async (request) => {
    const entry = await store.deleteLibraryEntry(readId(request));
    index.remove(entry.id);
    return { deleted: entry };
  });

  app.get('/v1/review', async (request) => {
    const { status } = request.query as { status?: ReviewStatus };
    return store.listReviewItems({ ...readPaging(request), status });
  });

  app.post('/v1/review/:id/resolve', async (request) => {
    const body = request.body as { resolution?: unknown } | null;
    if (!isJsonRequest(request) || !body || typeof body !== 'object') {
      throw new ApiError(415, 'EUNSUPPORTEDMEDIATYPE', 'Expected a JSON body {"resolution": "same" | "different"}.');
    }
    const result = await store.resolveReviewItem(readId(request), body.resolution as ReviewVerdict);
    if (result.libraryEntry) index.add(result.libraryEntry.id, result.libraryEntry.hash);
    await updateQueueGauge();
    return result;
  });

  return app;
}

/** The routes whose bad input counts as a failed extraction are the ones that queue for a hashing slot. */
function isExtractionRequest(request: FastifyRequest): boolean {
  const extraction = request.routeOptions.config.extraction;
  return extraction === 'always' || (extraction === 'image-body' && !isJsonRequest(request));
}

/** Runs `job` holding one of the admission gate's hashing slots (waiting for it, or shed with 503 EOVERLOADED). */
async function runHashingJob<T>(request: FastifyRequest, job: () => Promise<T>): Promise<T> {
  const ticket = getAdmissionTicket(request);
  if (ticket) await ticket.acquireSlot();
  try {
    return await job();
  } finally {
    ticket?.releaseSlot();
  }
}

function readId(request: FastifyRequest): number {
  const raw = (request.params as { id: string }).id;
  if (!/^\d{1,15}$/.test(raw))
    throw new ApiError(400, 'EBADREQUEST', `Expected the id in the path to be a positive integer, got \`${raw}\`.`);
  return Number(raw);
}

/** `?limit=&offset=` as numbers; the repository validates the ranges and names the bad one. */
function readPaging(request: FastifyRequest): { limit?: number; offset?: number } {
  const { limit, offset } = request.query as { limit?: string; offset?: string };
  return {
    limit: limit === undefined ? undefined : Number(limit),
    offset: offset === undefined ? undefined : Number(offset),
  };
}

function readMode(request: FastifyRequest): HashMode {
  const mode = (request.query as { mode?: unknown }).mode ?? 'exact';
  if (!isHashMode(mode))
    throw new ApiError(
      400,
      'EBADREQUEST',
      `Expected the \`mode\` query parameter to be exact or fast, got \`${String(mode)}\`.`,
    );
  return mode;
}
