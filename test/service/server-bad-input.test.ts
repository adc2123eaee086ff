import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import { chmod, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createTempDir } from '../helpers/temp-dir.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createFixtureImage } from '../helpers/images.js';

const FAILURE = 'dhash_extractions_total{outcome="failure"}';

interface Case {
  name: string;
  path: string;
  body: Uint8Array | string;
  contentType?: string;
  status: number;
  code: string;
  /** How much the failure counter must move: 1 for an extraction attempt, 0 otherwise. */
  failures: 0 | 1;
}

/** A PNG whose header claims width×height pixels but carries almost no data: a decompression bomb's header. */
function createPngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function expectError(service: TestService, c: Case): Promise<void> {
  const before = await service.readMetric(FAILURE);
  const response = await fetch(`${service.url}${c.path}`, {
    method: 'POST',
    body: c.body,
    headers: c.contentType ? { 'content-type': c.contentType } : {},
  });
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(response.status, c.status, `${c.name}: status (${JSON.stringify(body)})`);
  assert.equal(body.error.code, c.code, `${c.name}: code`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 10, `${c.name}: a message that says what is wrong`);
  assert.equal((await service.readMetric(FAILURE)) - before, c.failures, `${c.name}: failure counter`);
}

test(`every bad input gets its 4xx JSON error, counts as a failed extraction when it was one, and the \
service keeps serving`, async (t) => {
  const service = await startTestService(t, { limits: { bodyLimitBytes: 64 * 1024 } });
  const jpeg = await createFixtureImage({ kind: 'photo', width: 200, height: 150, seed: 3, format: 'jpeg' });
  const cases: Case[] = [
    {
      name: 'empty body',
      path: '/v1/hash',
      body: '',
      contentType: 'image/png',
      status: 400,
      code: 'EEMPTYBODY',
      failures: 1,
    },
    {
      name: 'empty octet body',
      path: '/v1/match',
      body: '',
      contentType: 'application/octet-stream',
      status: 400,
      code: 'EEMPTYBODY',
      failures: 1,
    },
    {
      name: 'not an image',
      path: '/v1/hash',
      body: 'just some text, certainly not pixels',
      contentType: 'application/octet-stream',
      status: 422,
      code: 'EBADIMAGE',
      failures: 1,
    },
    {
      name: 'truncated JPEG',
      path: '/v1/hash',
      body: jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      contentType: 'image/jpeg',
      status: 422,
      code: 'ETRUNCATED',
      failures: 1,
    },
    {
      name: 'decompression bomb',
      path: '/v1/hash',
      body: createPngHeaderOnly(20_000, 20_000),
      contentType: 'image/png',
      status: 413,
      code: 'ETOOMANYPIXELS',
      failures: 1,
    },
    {
      name: 'body over the size limit',
      path: '/v1/hash',
      body: Buffer.alloc(65 * 1024, 7),
      contentType: 'image/png',
      status: 413,
      code: 'EBODYTOOLARGE',
      failures: 1,
    },
    {
      name: 'PDF over the size limit',
      path: '/v1/extract',
      body: Buffer.alloc(65 * 1024, 7),
      contentType: 'application/pdf',
      status: 413,
      code: 'EBODYTOOLARGE',
      failures: 1,
    },
    {
      name: 'not a PDF',
      path: '/v1/extract',
      body: 'plain words',
      contentType: 'application/pdf',
      status: 422,
      code: 'EBADPDF',
      failures: 1,
    },
    {
      name: 'corrupt PDF',
      path: '/v1/extract',
      body: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 0x41)]),
      contentType: 'application/pdf',
      status: 422,
      code: 'EBADPDF',
      failures: 1,
    },
    {
      name: 'text/plain upload',
      path: '/v1/hash',
      body: 'hello',
      contentType: 'text/plain',
      status: 415,
      code: 'EUNSUPPORTEDMEDIATYPE',
      failures: 1,
    },
    { name: 'no content type', path: '/v1/hash', body: jpeg, status: 415, code: 'EUNSUPPORTEDMEDIATYPE', failures: 1 },
    {
      name: 'JSON to an image route',
      path: '/v1/match',
      body: '{"a":1}',
      contentType: 'application/json',
      status: 415,
      code: 'EUNSUPPORTEDMEDIATYPE',
      failures: 1,
    },
    {
      name: 'image to the PDF route',
      path: '/v1/extract',
      body: jpeg,
      contentType: 'image/jpeg',
      status: 415,
      code: 'EUNSUPPORTEDMEDIATYPE',
      failures: 1,
    },
    {
      name: 'bad mode',
      path: '/v1/hash?mode=slow',
      body: jpeg,
      contentType: 'image/jpeg',
      status: 400,
      code: 'EBADREQUEST',
      failures: 1,
    },
    {
      name: 'image without a label',
      path: '/v1/library',
      body: jpeg,
      contentType: 'image/jpeg',
      status: 400,
      code: 'EBADREQUEST',
      failures: 1,
    },
    {
      name: 'bad JSON',
      path: '/v1/library',
      body: '{"label": "x", "hash": ',
      contentType: 'application/json',
      status: 400,
      code: 'EBADJSON',
      failures: 0,
    },
    {
      name: 'empty JSON',
      path: '/v1/library',
      body: '',
      contentType: 'application/json',
      status: 400,
      code: 'EEMPTYBODY',
      failures: 0,
    },
    {
      name: 'bad hash in JSON',
      path: '/v1/library',
      body: '{"label": "x", "hash": "xyz"}',
      contentType: 'application/json',
      status: 400,
      code: 'EINVALIDHASH',
      failures: 0,
    },
    {
      name: 'missing label in JSON',
      path: '/v1/library',
      body: '{"hash": "0123456789abcdef"}',
      contentType: 'application/json',
      status: 400,
      code: 'EINVALIDOPTION',
      failures: 0,
    },
    {
      name: 'bad resolution',
      path: '/v1/review/1/resolve',
      body: '{"resolution": "maybe"}',
      contentType: 'application/json',
      status: 400,
      code: 'EINVALIDOPTION',
      failures: 0,
    },
    {
      name: 'unknown review item',
      path: '/v1/review/999/resolve',
      body: '{"resolution": "same"}',
      contentType: 'application/json',
      status: 404,
      code: 'EREVIEWITEMNOTFOUND',
      failures: 0,
    },
    {
      name: 'unknown route',
      path: '/v1/nope',
      body: 'x',
      contentType: 'application/octet-stream',
      status: 404,
      code: 'ENOTFOUND',
      failures: 0,
    },
  ];
  for (const c of cases) await expectError(service, c);

  const healthy = await fetch(`${service.url}/v1/hash`, {
    method: 'POST',
    body: jpeg,
    headers: { 'content-type': 'image/jpeg' },
  });
  assert.equal(healthy.status, 200);
  assert.equal(
    await service.readMetric(FAILURE),
    cases.reduce((sum, c) => sum + c.failures, 0),
  );
  assert.equal(await service.readMetric('dhash_extractions_total{outcome="success"}'), 1);
  const logged = service.readLogLines().filter((l) => l.msg === 'request completed' && l.statusCode !== 200);
  assert.deepEqual(
    logged.map((l) => l.errorCode),
    cases.map((c) => c.code),
  );
});

test('a bad id in the path or paging is a 400 naming the value', async (t) => {
  const service = await startTestService(t);
  const response = await fetch(`${service.url}/v1/library/abc`, { method: 'DELETE' });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), {
    error: { code: 'EBADREQUEST', message: 'Expected the id in the path to be a positive integer, got `abc`.' },
  });
  const paging = await fetch(`${service.url}/v1/library?limit=0`);
  assert.equal(paging.status, 400);
  assert.equal(((await paging.json()) as { error: { code: string } }).error.code, 'EINVALIDOPTION');
});

test(`a PDF that outlives the poppler budget gets 422 EPDFTIMEOUT and counts as a failure; missing \
poppler is 503 EPDFUNAVAILABLE`, async (t) => {
  const dir = await createTempDir(t);
  const slowCommand = join(dir, 'slow-pdfimages');
  await writeFile(slowCommand, '#!/bin/sh\nexec sleep 30\n');
  await chmod(slowCommand, 0o755);
  const slow = await startTestService(t, { limits: { pdfimagesCommand: slowCommand, pdfTimeoutMs: 300 } });
  const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
  await expectError(slow, {
    name: 'slow PDF',
    path: '/v1/extract',
    body: pdf,
    contentType: 'application/pdf',
    status: 422,
    code: 'EPDFTIMEOUT',
    failures: 1,
  });
  const missing = await startTestService(t, { limits: { pdfimagesCommand: join(dir, 'no-such-pdfimages') } });
  await expectError(missing, {
    name: 'no poppler',
    path: '/v1/extract',
    body: pdf,
    contentType: 'application/pdf',
    status: 503,
    code: 'EPDFUNAVAILABLE',
    failures: 1,
  });
});

test(`a client that stalls mid-upload is disconnected once the timeout passes, so it cannot pin the \
service`, async (t) => {
  const service = await startTestService(t, { limits: { requestTimeoutMs: 500 } });
  const { port } = new URL(service.url);
  const startedMs = Date.now();
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\nonly a little',
      );
    });
    let text = '';
    socket.on('data', (c) => (text += c));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    t.after(() => socket.destroy());
  });
  // Node answers 408 when its request timer wins, or just closes when the idle-socket timer does; both free the socket.
  assert.ok(answer === '' || /^HTTP\/1\.1 408 /.test(answer), `unexpected answer ${answer}`);
  const elapsedMs = Date.now() - startedMs;
  assert.ok(elapsedMs >= 400 && elapsedMs < 10_000, `closed after ${elapsedMs} ms`);
});
