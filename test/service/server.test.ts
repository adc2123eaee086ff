import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, readSample } from '../helpers/service.js';
import { createFixtureImage } from '../helpers/images.js';
import { PDFDocument, createPng } from '../helpers/pdfs.js';
import { hashImage } from '../../src/service/hash/hash-image.js';
import { closeDatabase } from '../../src/service/store/database.js';
import { LATEST_SCHEMA_VERSION } from '../../src/service/store/index.js';

const SUCCESS = 'dhash_extractions_total{outcome="success"}';
const FAILURE = 'dhash_extractions_total{outcome="failure"}';
const HIST_COUNT = 'dhash_hash_duration_seconds_count';

const post = (url: string, body: Uint8Array | string, contentType?: string) =>
  fetch(url, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });

test(`POST /v1/hash answers the same hash as hashImage, in both modes, and moves the counters by one \
each`, async (t) => {
  const service = await startTestService(t);
  const image = await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 11, format: 'jpeg' });
  const exact = await hashImage(image, { mode: 'exact' });
  const fast = await hashImage(image, { mode: 'fast' });

  const response = await post(`${service.url}/v1/hash`, image, 'image/jpeg');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { hash: exact.hash, width: 120, height: 90, format: 'jpeg', mode: 'exact' });
  const fastResponse = await post(`${service.url}/v1/hash?mode=fast`, image, 'application/octet-stream');
  assert.deepEqual(await fastResponse.json(), {
    hash: fast.hash,
    width: 120,
    height: 90,
    format: 'jpeg',
    mode: 'fast',
  });

  assert.equal(await service.readMetric(SUCCESS), 2);
  assert.equal(await service.readMetric(FAILURE), 0);
  assert.equal(await service.readMetric(HIST_COUNT), 2);
  assert.equal(await service.readMetric('dhash_hash_duration_seconds_bucket{le="+Inf"}'), 2);
});

test(`GET /metrics exposes the four contract metrics from a fresh start, with a bucket at exactly \
le="2"`, async (t) => {
  const service = await startTestService(t);
  const response = await fetch(`${service.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^# TYPE dhash_hash_duration_seconds histogram$/m);
  assert.match(text, /^# TYPE dhash_extractions_total counter$/m);
  assert.match(text, /^# TYPE dhash_low_confidence_queue_length gauge$/m);
  assert.equal(readSample(text, 'dhash_hash_duration_seconds_bucket{le="2"}'), 0);
  assert.equal(readSample(text, SUCCESS), 0);
  assert.equal(readSample(text, FAILURE), 0);
  assert.equal(readSample(text, 'dhash_low_confidence_queue_length'), 0);
  assert.equal(readSample(text, 'dhash_build_info{version="9.8.7-test"}'), 1);
});

test('GET /health reports ok with the database and pdf checks', async (t) => {
  const service = await startTestService(t);
  const response = await fetch(`${service.url}/health`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: 'ok',
    version: '9.8.7-test',
    engine: 'sqlite',
    schemaVersion: LATEST_SCHEMA_VERSION,
    checks: { database: 'ok', pdf: 'ok' },
  });
});

test('GET /health reports pdf unavailable (still 200) when poppler is missing', async (t) => {
  const service = await startTestService(t, { limits: { pdfimagesCommand: '/nonexistent/pdfimages' } });
  const response = await fetch(`${service.url}/health`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; checks: { pdf: string } };
  assert.equal(body.status, 'ok');
  assert.equal(body.checks.pdf, 'unavailable');
});

test('GET /health answers 503 unhealthy naming the database when the database is closed', async (t) => {
  const service = await startTestService(t);
  closeDatabase(service.db);
  const response = await fetch(`${service.url}/health`);
  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), {
    status: 'unhealthy',
    failing: 'database',
    version: '9.8.7-test',
    engine: 'sqlite',
    checks: { database: 'failed', pdf: 'ok' },
    detail: 'The database connection is not open',
  });
});

test('GET /health answers 503 when the schema is not the one this release expects', async (t) => {
  const service = await startTestService(t);
  service.db.exec('DELETE FROM schema_migrations');
  const response = await fetch(`${service.url}/health`);
  assert.equal(response.status, 503);
  const body = (await response.json()) as { failing: string; detail: string };
  assert.equal(body.failing, 'database');
  assert.equal(body.detail, `schema version 0, expected ${LATEST_SCHEMA_VERSION}`);
});

test('POST /v1/extract hashes each PDF image and counts each one as an extraction', async (t) => {
  const service = await startTestService(t);
  const pngA = await createPng(40, 30, 21);
  const pngB = await createPng(24, 24, 22);
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawImage(await doc.embedPng(pngA), { x: 0, y: 0 });
  const page2 = doc.addPage([200, 200]);
  page2.drawImage(await doc.embedPng(pngB), { x: 0, y: 0 });
  page2.drawImage(await doc.embedPng(pngA), { x: 50, y: 50 });
  const response = await post(`${service.url}/v1/extract`, await doc.save(), 'application/pdf');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    images: [
      { page: 1, index: 1, width: 40, height: 30, hash: (await hashImage(pngA)).hash },
      { page: 2, index: 1, width: 24, height: 24, hash: (await hashImage(pngB)).hash },
      { page: 2, index: 2, width: 40, height: 30, hash: (await hashImage(pngA)).hash },
    ],
  });
  assert.equal(await service.readMetric(SUCCESS), 3);
  assert.equal(await service.readMetric(HIST_COUNT), 3);
  assert.equal(await service.readMetric(FAILURE), 0);
});

test(`writes one JSON log line per request with time, level, msg, method, url, status and duration, \
and no secrets`, async (t) => {
  const service = await startTestService(t, {
    env: { SLACK_WEBHOOK: 'https://hooks.example.test/services/T000/B000/secretsecret' },
  });
  await fetch(`${service.url}/health?x=https://hooks.example.test/services/T000/B000/secretsecret`, {
    headers: { authorization: 'Bearer tok-123456' },
  });
  const lines = service.readLogLines().filter((l) => l.msg === 'request completed');
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.equal(line.level, 'info');
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(line.component, 'service');
  assert.equal(line.method, 'GET');
  assert.equal(line.statusCode, 200);
  assert.equal(typeof line.durationMs, 'number');
  const text = JSON.stringify(service.readLogLines());
  assert.ok(!text.includes('tok-123456'), 'authorization must not be logged');
  assert.ok(!text.includes('secretsecret'), 'secrets from the environment must be redacted');
});
