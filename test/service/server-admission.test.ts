import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestService, type TestService } from '../helpers/service.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/processes.js';
import { createFixtureImage } from '../helpers/images.js';

const FAILURE = 'dhash_extractions_total{outcome="failure"}';
const SUCCESS = 'dhash_extractions_total{outcome="success"}';
const shedSample = (route: string, reason: string) => `dhash_requests_shed_total{route="${route}",reason="${reason}"}`;
const PDF = Buffer.from('%PDF-1.4\n%fake body: the stand-in pdfimages never reads it\n');

/**
 * A stand-in for poppler's pdfimages whose `-list` blocks until the test creates the release file, so a PDF
 * extraction holds its hashing slot exactly as long as the test wants (no timing guesses).
 */
async function createBlockingPdfimages(t: TestContext): Promise<{ command: string; release: () => Promise<void> }> {
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
  // The temp dir may be gone already when this runs; releasing then is moot.
  t.after(() => release().catch(() => undefined));
  return { command, release };
}

const post = (url: string, body: Uint8Array, contentType: string) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });

/** Starts a PDF extraction that holds the only slot, and waits until the gate shows it running. */
async function occupySlot(service: TestService, release: () => Promise<void>) {
  const pending = post(`${service.url}/v1/extract`, PDF, 'application/pdf');
  await waitFor(
    'the extraction to hold its slot',
    async () => (await service.readMetric('dhash_hashing_in_flight')) === 1,
    10_000,
    10,
  );
  return async () => {
    await release();
    return pending;
  };
}

test(`with one slot busy, a second hashing request gets 503 EOVERLOADED with Retry-After, counted as \
shed and not as a failure`, async (t) => {
  const pdfimages = await createBlockingPdfimages(t);
  const service = await startTestService(t, {
    limits: { pdfimagesCommand: pdfimages.command },
    admission: { maxInFlight: 1, maxQueueWaitMs: 0 },
  });
  const image = await createFixtureImage({ kind: 'photo', width: 64, height: 48, seed: 5, format: 'jpeg' });
  const finish = await occupySlot(service, pdfimages.release);
  const failuresBefore = await service.readMetric(FAILURE);
  const shedBefore = await service.readMetric(shedSample('/v1/hash', 'queue-wait'));

  const refused = await post(`${service.url}/v1/hash`, image, 'image/jpeg');
  assert.equal(refused.status, 503);
  assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  const body = (await refused.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'EOVERLOADED');
  assert.match(
    body.error.message,
    /^The service is at capacity \(the queue of hashing jobs is full\); retry after \d+ s\.$/,
  );
  assert.equal(await service.readMetric(shedSample('/v1/hash', 'queue-wait')), shedBefore + 1);
  assert.equal(await service.readMetric(FAILURE), failuresBefore);

  // While hashing is saturated, health and metrics still answer.
  const health = await fetch(`${service.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');

  const extracted = await finish();
  assert.equal(extracted.status, 200);
  assert.deepEqual(await extracted.json(), { images: [] });
  // The slot is free again: the same image is now hashed.
  assert.equal((await post(`${service.url}/v1/hash`, image, 'image/jpeg')).status, 200);
  assert.equal(await service.readMetric(SUCCESS), 1);
  assert.equal(await service.readMetric(FAILURE), failuresBefore);
  assert.equal(await service.readMetric('dhash_queued_body_bytes'), 0);
});

test('a request that waits longer than maxQueueWaitMs for a slot is shed with reason queue-wait', async (t) => {
  const pdfimages = await createBlockingPdfimages(t);
  const service = await startTestService(t, {
    limits: { pdfimagesCommand: pdfimages.command },
    admission: { maxInFlight: 1, maxQueueWaitMs: 50 },
  });
  const finish = await occupySlot(service, pdfimages.release);
  const refused = await post(
    `${service.url}/v1/match`,
    await createFixtureImage({ kind: 'noise', width: 32, height: 32, seed: 2, format: 'png' }),
    'image/png',
  );
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'EOVERLOADED');
  assert.equal(await service.readMetric(shedSample('/v1/match', 'queue-wait')), 1);
  assert.equal(await service.readMetric(FAILURE), 0);
  assert.equal((await finish()).status, 200);
});

test('a Content-Length beyond what is left of the queued-bytes budget is shed before its body is read', async (t) => {
  const pdfimages = await createBlockingPdfimages(t);
  const budget = PDF.length + 1000;
  const service = await startTestService(t, {
    limits: { pdfimagesCommand: pdfimages.command },
    admission: { maxInFlight: 1, maxQueuedBytes: budget, maxQueueWaitMs: 60_000 },
  });
  const finish = await occupySlot(service, pdfimages.release);
  assert.equal(await service.readMetric('dhash_queued_body_bytes'), PDF.length);

  const tooBig = await post(`${service.url}/v1/library?label=x`, Buffer.alloc(1001, 1), 'image/png');
  assert.equal(tooBig.status, 503);
  assert.equal(((await tooBig.json()) as { error: { code: string } }).error.code, 'EOVERLOADED');
  assert.equal(await service.readMetric(shedSample('/v1/library', 'queued-bytes')), 1);
  assert.equal(await service.readMetric(FAILURE), 0);
  // JSON library adds hash nothing and are never queued.
  const json = await fetch(`${service.url}/v1/library`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'a', hash: '0123456789abcdef' }),
  });
  assert.equal(json.status, 201);
  assert.equal((await finish()).status, 200);
});

test('a chunked body is counted as it streams and shed when it outgrows the queued-bytes budget', async (t) => {
  const service = await startTestService(t, { admission: { maxInFlight: 1, maxQueuedBytes: 4096 } });
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${service.url}/v1/hash`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    for (let i = 0; i < 4; i++) req.write(Buffer.alloc(2048, i));
    req.end();
  });
  assert.equal(answer.status, 503);
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'EOVERLOADED');
  assert.equal(await service.readMetric(shedSample('/v1/hash', 'queued-bytes')), 1);
  assert.equal(await service.readMetric(FAILURE), 0);
  assert.equal(await service.readMetric('dhash_queued_body_bytes'), 0);
});

/** POSTs with `Expect: 100-continue`, sending the body only if the server asks for it. */
function postExpectingContinue(
  url: string,
  body: Buffer,
): Promise<{ status: number; isBodySent: boolean; connection?: string; json: { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    let isBodySent = false;
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'image/png', 'content-length': body.length, expect: '100-continue' },
    });
    req.on('continue', () => {
      isBodySent = true;
      req.end(body);
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          isBodySent,
          connection: res.headers.connection,
          json: JSON.parse(text),
        }),
      );
    });
    req.flushHeaders();
  });
}

test(`a client sending Expect: 100-continue is refused before it uploads, and asked for the body when \
admitted`, async (t) => {
  const pdfimages = await createBlockingPdfimages(t);
  const service = await startTestService(t, {
    limits: { pdfimagesCommand: pdfimages.command },
    admission: { maxInFlight: 1, maxQueueWaitMs: 0 },
  });
  const image = await createFixtureImage({ kind: 'noise', width: 40, height: 30, seed: 9, format: 'png' });
  const finish = await occupySlot(service, pdfimages.release);
  const refused = await postExpectingContinue(`${service.url}/v1/hash`, image);
  assert.deepEqual(
    {
      status: refused.status,
      isBodySent: refused.isBodySent,
      connection: refused.connection,
      code: refused.json.error?.code,
    },
    {
      status: 503,
      isBodySent: false,
      connection: 'close',
      code: 'EOVERLOADED',
    },
  );
  assert.equal((await finish()).status, 200);
  const admitted = await postExpectingContinue(`${service.url}/v1/hash`, image);
  assert.equal(admitted.status, 200);
  assert.equal(admitted.isBodySent, true);
  assert.equal(await service.readMetric(FAILURE), 0);
  assert.equal(await service.readMetric(SUCCESS), 1);
});
