// waitForHealthy against a real HTTP server whose health the
// test flips: consecutive-OK counting, deadlines, early abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock, createSystemClock } from '../../../src/lib/clock.js';
import { waitForHealthy } from '../../../src/rollout/checks/health.js';
import { getFreePort } from '../../helpers/free-port.js';

async function startHealthServer(t: { after: (fn: () => Promise<void>) => void }, answers: number[]) {
  let i = 0;
  const server = createServer((_req, res) => {
    const status = answers[Math.min(i++, answers.length - 1)];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: status === 200 ? 'ok' : 'unhealthy' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

test('needs N consecutive OK answers: a failure in between restarts the count', async (t) => {
  const url = await startHealthServer(t, [200, 503, 200, 200, 200]);
  const result = await waitForHealthy(url, {
    consecutiveOk: 3,
    intervalMs: 1,
    timeoutMs: 10_000,
    clock: createSystemClock(),
  });
  assert.equal(result.ok, true);
  assert.deepEqual(
    result.checks.map((c) => c.status),
    [200, 503, 200, 200, 200],
  );
  assert.deepEqual(
    result.checks.map((c) => c.ok),
    [true, false, true, true, true],
  );
});

test('gives up at the deadline of the injected clock, naming the last answer', async (t) => {
  const url = await startHealthServer(t, [503]);
  const clock = createManualClock();
  const waiting = waitForHealthy(url, {
    consecutiveOk: 3,
    intervalMs: 1000,
    timeoutMs: 3000,
    clock,
    requestTimeoutMs: 5000,
  });
  while (clock.pending() === 0) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 3; i++) {
    while (clock.pending() === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.runNext();
  }
  const result = await waiting;
  assert.equal(result.ok, false);
  // Checks at 0, 1000, 2000 and 3000 ms: the last one falls on the deadline.
  assert.equal(result.checks.length, 4);
  assert.equal(result.reason, 'no 3 consecutive OK checks within 3000 ms (last: 503)');
});

test('stops at once when the abort reason says so (the process died)', async (t) => {
  const url = await startHealthServer(t, [503]);
  const result = await waitForHealthy(url, {
    consecutiveOk: 3,
    intervalMs: 1,
    timeoutMs: 60_000,
    clock: createSystemClock(),
    getAbortReason: async () => 'the service process exited',
  });
  assert.deepEqual(
    { ok: result.ok, checks: result.checks.length, reason: result.reason },
    { ok: false, checks: 1, reason: 'the service process exited' },
  );
});

test('a refused connection is a failed check, not an exception', async () => {
  const port = await getFreePort();
  const result = await waitForHealthy(`http://127.0.0.1:${port}/health`, {
    consecutiveOk: 1,
    intervalMs: 1,
    timeoutMs: 1,
    clock: createSystemClock(),
  });
  assert.equal(result.ok, false);
  assert.equal(result.checks[0].error, 'ECONNREFUSED');
});
