import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/processes.js';
import { getFreePort } from '../helpers/free-port.js';
import { createFixtureImage } from '../helpers/images.js';
import { hashImage } from '../../src/service/hash/hash-image.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Resolves when `predicate` holds over the text so far; rejects after `timeoutMs` with what was seen. */
function waitForOutput(
  read: () => string,
  predicate: (text: string) => boolean,
  timeoutMs: number,
  what: string,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const text = read();
      if (predicate(text)) return resolve(text);
      if (Date.now() > deadline) return reject(new Error(`Timed out waiting for ${what}; output so far:\n${text}`));
      setTimeout(poll, 25);
    };
    poll();
  });
}

test(`dhash serve answers /health, and on SIGTERM finishes the in-flight request, closes the database \
and exits 0`, async (t) => {
  const dir = await createTempDir(t);
  const dbFile = join(dir, 'service.sqlite');
  const port = await getFreePort();
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', String(port), '--db', dbFile, '--migrate'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const started = await waitForOutput(
    () => stdout,
    (s) => s.includes('dhash service listening on '),
    30_000,
    'the listening line',
  );
  const url = /dhash service listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(started)![1];
  assert.equal(url, `http://127.0.0.1:${port}`);
  // The start line says how big the library is and which probe loop serves matches (native where it is built).
  const listening = JSON.parse(started.split('\n').find((line) => line.includes('listening on'))!) as {
    library?: unknown;
  };
  assert.deepEqual(listening.library, { entries: 0, matchKernel: 'native' });
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');

  // A slow upload: the first bytes now, the rest after SIGTERM. The server must wait for it, not cut it off.
  const image = await createFixtureImage({ kind: 'photo', width: 64, height: 48, seed: 8, format: 'png' });
  // `Expect: 100-continue`: Node's server answers 100 as it hands
  // the parsed request to fastify, so the test can wait for that.
  const req = request(`${url}/v1/hash`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'image/png', 'content-length': image.length, expect: '100-continue' },
  });
  t.after(() => req.destroy());
  const slow = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
  let isContinued = false;
  req.on('continue', () => (isContinued = true));
  req.write(image.subarray(0, 100));
  // The server has parsed the request (it sent 100 Continue): the request is really in flight at SIGTERM.
  await waitFor('the server to answer 100 Continue to the upload', async () => isContinued, 10_000, 10);
  child.kill('SIGTERM');
  await waitForOutput(
    () => stdout,
    (s) => s.includes('draining in-flight requests'),
    10_000,
    'the drain line',
  );

  // While draining, the service takes no new work: a new connection is refused (or answered 503 if it raced in).
  const during = await fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(during === 'refused' || during === 503, `a new request while draining got ${during}`);
  assert.equal(child.exitCode, null, 'the process must still be running while a request is in flight');
  req.end(image.subarray(100));

  const answer = await slow;
  assert.equal(answer.status, 200);
  assert.equal((JSON.parse(answer.body) as { hash: string }).hash, (await hashImage(image)).hash);
  assert.equal(await exited, 0, `exit code; stderr:\n${stderr}`);
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; statusCode?: number });
  const messages = lines.map((l) => l.msg);
  assert.ok(
    messages.indexOf('request completed', messages.indexOf('draining in-flight requests, then closing the database')) >
      0,
  );
  assert.equal(messages.at(-1), 'service stopped');
  assert.equal(stderr, '');
});
