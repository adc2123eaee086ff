// Refusals decided before fastify, through a real service on 127.0.0.1:0 and real HTTP clients (fetch and raw
// sockets): the answer, the counters, the log, the connection, auth, and the fallback through fastify's hook.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createTempDir } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/processes.js';
import { createFixtureImage } from '../../helpers/images.js';
import { readSample } from '../../helpers/service.js';
import { openDatabase, closeDatabase } from '../../../src/service/store/database.js';
import { createSqliteStore } from '../../../src/service/store/sqlite-store.js';
import { createServiceMetrics } from '../../../src/service/metrics.js';
import { createServer } from '../../../src/service/server.js';
import { createRequestLogger } from '../../../src/service/http/request-logger.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { loadLibraryIndex } from '../../../src/service/library/index.js';
import { parseApiTokens } from '../../../src/service/http/auth-tokens.js';
import { hashImage } from '../../../src/service/hash/hash-image.js';
import type { AdmissionLimits } from '../../../src/service/http/admission.js';

const FAILURE = 'dhash_extractions_total{outcome="failure"}';
const shedSample = (route: string, reason: string) => `dhash_requests_shed_total{route="${route}",reason="${reason}"}`;
const PDF = Buffer.from('%PDF-1.4\n%fake body: the stand-in pdfimages never reads it\n');
const READ_TOKEN = 'r3ad-t0ken-0123456789abcdef';
const WRITE_TOKEN = 'wr1te-t0ken-0123456789abcdef';

interface Service {
  url: string;
  port: number;
  readMetric(sample: string): Promise<number>;
  readLogLines(): Record<string, unknown>[];
}

/** The real server (createServer) over a migrated SQLite file, optionally with API tokens, on 127.0.0.1:0. */
async function startService(
  t: TestContext,
  options: { admission: Partial<AdmissionLimits>; pdfimagesCommand?: string; tokens?: string },
): Promise<Service> {
  const dir = await createTempDir(t);
  const db = openDatabase(join(dir, 'dhash.sqlite'), { migrate: true });
  const stream = new PassThrough();
  let logText = '';
  stream.on('data', (chunk) => (logText += chunk));
  const app = createServer({
    store: createSqliteStore(db),
    index: loadLibraryIndex(db),
    metrics: createServiceMetrics({ version: '1.0.0-test', shouldCollectDefaults: false }),
    logger: createRequestLogger({ stream, redact: createRedactor({}) }),
    version: '1.0.0-test',
    limits: options.pdfimagesCommand ? { pdfimagesCommand: options.pdfimagesCommand } : {},
    admission: options.admission,
    auth: options.tokens ? { tokens: parseApiTokens(options.tokens, 'test').tokens } : undefined,
  });
  t.after(async () => {
    await app.close();
    closeDatabase(db);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    port: Number(new URL(url).port),
    readMetric: async (sample) => readSample(await (await fetch(`${url}/metrics`)).text(), sample),
    readLogLines: () =>
      logText
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A stand-in pdfimages whose `-list` blocks until released: a PDF extraction holds the slot as long as wanted. */
async function occupyOnlySlot(t: TestContext, start: (command: string) => Promise<Service>) {
  const dir = await createTempDir(t);
  const releaseFile = join(dir, 'release');
  const command = join(dir, 'pdfimages');
  const script = [
    '#!/bin/sh',
    'if [ "$1" = "-v" ]; then echo "pdfimages version 0.0-test"; exit 0; fi',
    `while [ ! -f '${releaseFile}' ]; do sleep 0.02; done`,
    'echo "page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio"',
    'echo "---------------------------------------------------------------------------------------"',
  ].join('\n');
  await writeFile(command, `${script}\n`);
  await chmod(command, 0o755);
  const release = () => writeFile(releaseFile, '');
  t.after(() => release().catch(() => undefined));
  const service = await start(command);
  const extraction = fetch(`${service.url}/v1/extract`, {
    method: 'POST',
    body: PDF,
    headers: { 'content-type': 'application/pdf', authorization: `Bearer ${READ_TOKEN}` },
  });
  await waitFor(
    'the extraction to hold its slot',
    async () => (await service.readMetric('dhash_hashing_in_flight')) === 1,
  );
  return {
    service,
    finish: async () => {
      await release();
      return extraction;
    },
  };
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `requests` one after another on one socket, each once the previous answer is complete, and reads the
 * answers. `serverEnded` settles when the service ends the connection; the caller destroys the socket.
 */
async function exchangeRaw(
  port: number,
  requests: string[],
): Promise<{ answers: RawAnswer[]; serverEnded: Promise<void>; destroy: () => void }> {
  const socket = connect(port, '127.0.0.1');
  const serverEnded = new Promise<void>((resolve) => socket.once('end', resolve));
  const answers: RawAnswer[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('connect', () => socket.write(requests[0]));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const [statusLine, ...lines] = buffered.slice(0, headEnd).split('\r\n');
        const headers = Object.fromEntries(
          lines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
        );
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        answers.push({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: buffered.slice(headEnd + 4, headEnd + 4 + length),
        });
        buffered = buffered.slice(headEnd + 4 + length);
        if (answers.length === requests.length) return resolve();
        socket.write(requests[answers.length]);
      }
    });
  });
  return { answers, serverEnded, destroy: () => socket.destroy() };
}

const uploadHead = (path: string, bytes: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: ${bytes}\r\n${extra}\r\n`;
const withoutDate = ({ date: _date, ...headers }: Record<string, string>) => headers;

test(`a refusal answered before fastify has the status, headers and body fastify's hook gives, and keeps the \
connection of a client that sent its body`, async (t) => {
  const service = await startService(t, { admission: { maxInFlight: 1, maxQueuedBytes: 100 } });
  const body = 'x'.repeat(200);
  // A path the early table does not spell: admitted, and here refused, by fastify's onRequest hook as before.
  const throughFastify = await exchangeRaw(service.port, [uploadHead('/v1/h%61sh', 200) + body]);
  const early = await exchangeRaw(service.port, [
    uploadHead('/v1/hash', 200) + body,
    'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  ]);
  throughFastify.destroy();
  early.destroy();

  // The second answer came on the same connection: the refused body was read and dropped, the connection kept.
  assert.deepEqual(
    early.answers.map((answer) => answer.status),
    [503, 200],
  );
  assert.deepEqual(withoutDate(early.answers[0].headers), withoutDate(throughFastify.answers[0].headers));
  assert.deepEqual(withoutDate(early.answers[0].headers), {
    'retry-after': '1',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(early.answers[0].body)),
    connection: 'keep-alive',
    'keep-alive': 'timeout=72',
  });
  assert.equal(early.answers[0].body, throughFastify.answers[0].body);
  assert.deepEqual(JSON.parse(early.answers[0].body), {
    error: {
      code: 'EOVERLOADED',
      message: 'The service is at capacity (the bytes of queued uploads are at their limit); retry after 1 s.',
    },
  });
  assert.equal(await service.readMetric(shedSample('/v1/hash', 'queued-bytes')), 2);
  assert.equal(await service.readMetric(FAILURE), 0);
  assert.equal(await service.readMetric('dhash_queued_body_bytes'), 0);
  // Only the refusal fastify answered has a request line; the early one is counted in the interval's summary line.
  assert.deepEqual(
    service
      .readLogLines()
      .filter((line) => line.msg === 'request completed' && line.url !== '/metrics')
      .map((line) => [line.url, line.statusCode, line.errorCode]),
    [
      ['/v1/h%61sh', 503, 'EOVERLOADED'],
      ['/health', 200, undefined],
    ],
  );
});

test(`a client sending Expect: 100-continue is refused without being asked for its body, and the connection is \
closed`, async (t) => {
  const service = await startService(t, { admission: { maxInFlight: 1, maxQueuedBytes: 100 } });
  const { answers, serverEnded, destroy } = await exchangeRaw(service.port, [
    uploadHead('/v1/match', 5000, 'Expect: 100-continue\r\n'),
  ]);
  t.after(destroy);
  assert.equal(answers.length, 1);
  assert.equal(answers[0].status, 503);
  assert.equal(answers[0].headers.connection, 'close');
  assert.equal(answers[0].headers['retry-after'], '1');
  assert.equal((JSON.parse(answers[0].body) as { error: { code: string } }).error.code, 'EOVERLOADED');
  // No `100 Continue` came before the 503 (it would have been parsed as the answer), and the service hangs up.
  await serverEnded;
  assert.equal(await service.readMetric(shedSample('/v1/match', 'queued-bytes')), 1);
});

test(`with the only slot busy, uploads are shed before fastify and summed in one log line, probes answer, and the \
next upload gets its hash`, async (t) => {
  const { service, finish } = await occupyOnlySlot(t, (command) =>
    startService(t, { admission: { maxInFlight: 1, maxQueueWaitMs: 0 }, pdfimagesCommand: command }),
  );
  const image = await createFixtureImage({ kind: 'photo', width: 96, height: 64, seed: 11, format: 'jpeg' });
  const refused = await Promise.all(
    Array.from({ length: 12 }, () =>
      fetch(`${service.url}/v1/hash`, { method: 'POST', body: image, headers: { 'content-type': 'image/jpeg' } }),
    ),
  );
  assert.deepEqual(
    refused.map((response) => response.status),
    Array(12).fill(503),
  );
  for (const response of refused) {
    assert.match(response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'EOVERLOADED');
    assert.match(
      body.error.message,
      /^The service is at capacity \(the queue of hashing jobs is full\); retry after \d+ s\.$/,
    );
  }
  assert.equal(await service.readMetric(shedSample('/v1/hash', 'queue-wait')), 12);
  assert.equal(await service.readMetric(FAILURE), 0);
  const health = await fetch(`${service.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');

  await waitFor('the shed summary line', async () =>
    service
      .readLogLines()
      .filter((line) => line.msg === 'hashing requests shed by admission control')
      .some((line) => line.shedCount !== undefined),
  );
  const summaries = service.readLogLines().filter((line) => line.msg === 'hashing requests shed by admission control');
  await waitFor('every refusal in a summary line', async () => {
    const lines = service.readLogLines().filter((line) => line.msg === 'hashing requests shed by admission control');
    return lines.reduce((sum, line) => sum + (line.shedCount as number), 0) === 12;
  });
  assert.deepEqual(summaries[0].shed, { '/v1/hash': { 'queue-wait': summaries[0].shedCount } });
  assert.equal(
    service.readLogLines().filter((line) => line.msg === 'request completed' && line.url === '/v1/hash').length,
    0,
  );

  assert.equal((await finish()).status, 200);
  const admitted = await fetch(`${service.url}/v1/hash`, {
    method: 'POST',
    body: image,
    headers: { 'content-type': 'image/jpeg' },
  });
  assert.equal(admitted.status, 200);
  assert.equal(((await admitted.json()) as { hash: string }).hash, (await hashImage(image)).hash);
  assert.equal(await service.readMetric(FAILURE), 0);
});

test(`with tokens and the only slot busy, a missing or unknown token gets 401 and a weak one 403, none counted as \
shed; a valid one is shed with 503`, async (t) => {
  const { service, finish } = await occupyOnlySlot(t, (command) =>
    startService(t, {
      admission: { maxInFlight: 1, maxQueueWaitMs: 0 },
      pdfimagesCommand: command,
      tokens: `reader:read:${READ_TOKEN},writer:write:${WRITE_TOKEN}`,
    }),
  );
  const image = await createFixtureImage({ kind: 'noise', width: 40, height: 30, seed: 3, format: 'png' });
  const upload = (path: string, authorization?: string) =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      body: image,
      headers: { 'content-type': 'image/png', ...(authorization ? { authorization } : {}) },
    });
  const missing = await upload('/v1/hash');
  const unknown = await upload('/v1/hash', 'Bearer not-a-token-of-this-service');
  const weak = await upload('/v1/library?label=cat', `Bearer ${READ_TOKEN}`);
  assert.deepEqual([missing.status, unknown.status, weak.status], [401, 401, 403]);
  assert.deepEqual(
    [(await missing.json()) as unknown, (await unknown.json()) as unknown],
    [
      {
        error: {
          code: 'EUNAUTHORIZED',
          message: 'POST /v1/hash needs an API token: send `Authorization: Bearer <token>`.',
        },
      },
      {
        error: {
          code: 'EUNAUTHORIZED',
          message: "The bearer token sent to POST /v1/hash is not one of this service's API tokens.",
        },
      },
    ],
  );
  assert.equal(((await weak.json()) as { error: { code: string } }).error.code, 'EFORBIDDEN');
  const shedTotal = async () =>
    (await service.readMetric(shedSample('/v1/hash', 'queue-wait'))) +
    (await service.readMetric(shedSample('/v1/library', 'queue-wait')));
  assert.equal(await shedTotal(), 0);

  const reader = await upload('/v1/hash', `Bearer ${READ_TOKEN}`);
  const writer = await upload('/v1/library?label=cat', `Bearer ${WRITE_TOKEN}`);
  assert.deepEqual([reader.status, writer.status], [503, 503]);
  assert.equal(((await reader.json()) as { error: { code: string } }).error.code, 'EOVERLOADED');
  assert.equal(await shedTotal(), 2);
  assert.equal(await service.readMetric(FAILURE), 0);

  assert.equal((await finish()).status, 200);
  const admitted = await upload('/v1/hash', `Bearer ${READ_TOKEN}`);
  assert.equal(admitted.status, 200);
  assert.equal(((await admitted.json()) as { hash: string }).hash, (await hashImage(image)).hash);
});

test('uploads without a valid token, held open with their bodies unsent, reserve no bytes and no slot', async (t) => {
  const service = await startService(t, {
    admission: { maxInFlight: 1, maxQueuedBytes: 2000, maxQueueWaitMs: 0 },
    tokens: `reader:read:${READ_TOKEN}`,
  });
  // Each declares 1500 of the 2000 budget bytes: if either were admitted, the valid upload below would be shed.
  const sockets = await Promise.all(
    ['', `Authorization: Bearer not-a-token-of-this-service\r\n`].map(
      (authorization) =>
        new Promise<{ head: string; destroy: () => void }>((resolve, reject) => {
          const socket = connect(service.port, '127.0.0.1', () =>
            socket.write(uploadHead('/v1/hash', 1500, authorization)),
          );
          let text = '';
          socket.on('error', reject);
          socket.on('data', (chunk) => {
            text += chunk;
            if (text.includes('\r\n\r\n')) resolve({ head: text.split('\r\n')[0], destroy: () => socket.destroy() });
          });
        }),
    ),
  );
  try {
    assert.deepEqual(
      sockets.map((socket) => socket.head),
      ['HTTP/1.1 401 Unauthorized', 'HTTP/1.1 401 Unauthorized'],
    );
    assert.equal(await service.readMetric('dhash_queued_body_bytes'), 0);
    const image = await createFixtureImage({ kind: 'gradient', width: 24, height: 18, seed: 4, format: 'png' });
    assert.ok(image.length > 500 && image.length <= 2000, `the fixture must be 501-2000 bytes, not ${image.length}`);
    const admitted = await fetch(`${service.url}/v1/hash`, {
      method: 'POST',
      body: image,
      headers: { 'content-type': 'image/png', authorization: `Bearer ${READ_TOKEN}` },
    });
    assert.equal(admitted.status, 200);
    assert.equal(((await admitted.json()) as { hash: string }).hash, (await hashImage(image)).hash);
  } finally {
    // Before the service closes: app.close() waits for connections that are mid-request.
    sockets.forEach((socket) => socket.destroy());
  }
});

test(`an upload path the early table does not spell (percent-encoded) is still admitted by fastify's hook, and \
refused there without an error line`, async (t) => {
  const service = await startService(t, { admission: { maxInFlight: 1, maxQueuedBytes: 100 } });
  const refused = await fetch(`${service.url}/v1/h%61sh`, {
    method: 'POST',
    body: Buffer.alloc(200, 1),
    headers: { 'content-type': 'image/png' },
  });
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'EOVERLOADED');
  assert.equal(await service.readMetric(shedSample('/v1/hash', 'queued-bytes')), 1);
  assert.deepEqual(
    service
      .readLogLines()
      .filter((line) => line.msg === 'request completed' && line.url !== '/metrics')
      .map((line) => [line.url, line.statusCode, line.errorCode]),
    [['/v1/h%61sh', 503, 'EOVERLOADED']],
  );
  // A shed is not a fault: no error line with a stack for it.
  assert.deepEqual(
    service.readLogLines().filter((line) => line.level === 'error'),
    [],
  );
});
