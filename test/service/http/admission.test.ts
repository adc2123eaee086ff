import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionGate, DEFAULT_ADMISSION_LIMITS, isOverloadedError } from '../../../src/service/http/admission.js';
import { resolveAdmissionLimits } from '../../../src/service/http/admission-config.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';

const isShed = (reason: string) => (error: unknown) =>
  isOverloadedError(error) && error.reason === reason && error.httpStatus === 503 && error.code === 'EOVERLOADED';

test(`holds body bytes from admission to close, and sheds an arrival that would pass the byte budget by one \
byte`, () => {
  const gate = new AdmissionGate({ maxInFlight: 4, maxQueuedBytes: 1000, maxQueueWaitMs: 60_000 }, () => 0);
  const a = gate.admit(600);
  assert.throws(() => gate.admit(401), isShed('queued-bytes'));
  const b = gate.admit(400);
  assert.equal(gate.state.queuedBytes, 1000);
  a.close();
  a.close();
  assert.equal(gate.state.queuedBytes, 400, 'close is idempotent');
  b.close();
  assert.deepEqual(gate.state, { inFlight: 0, queuedBytes: 0, pending: 0, waiting: 0 });
});

test('streamed bytes beyond the declared length draw on the budget and throw once it is spent', () => {
  const gate = new AdmissionGate({ maxInFlight: 1, maxQueuedBytes: 100, maxQueueWaitMs: 60_000 }, () => 0);
  const chunked = gate.admit(0);
  chunked.addBytes(60);
  chunked.addBytes(40);
  assert.equal(gate.state.queuedBytes, 100);
  assert.throws(() => chunked.addBytes(1), isShed('queued-bytes'));
  chunked.close();
  assert.equal(gate.state.queuedBytes, 0);
});

test('grants slots first come first served and never runs more than maxInFlight jobs', async () => {
  let nowMs = 0;
  const gate = new AdmissionGate({ maxInFlight: 2, maxQueuedBytes: 1e9, maxQueueWaitMs: 60_000 }, () => nowMs);
  const tickets = [1, 2, 3, 4].map(() => gate.admit(10));
  const started: number[] = [];
  const runs = tickets.map((ticket, i) => ticket.acquireSlot().then(() => started.push(i)));
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(
    { ...gate.state, queuedBytes: undefined },
    { inFlight: 2, queuedBytes: undefined, pending: 2, waiting: 2 },
  );
  nowMs = 30;
  tickets[1].releaseSlot();
  await Promise.resolve();
  assert.deepEqual(started, [0, 1, 2]);
  tickets[3].close(); // the client went away while waiting: its place is given up
  tickets[0].releaseSlot();
  tickets[2].releaseSlot();
  assert.deepEqual(gate.state.inFlight, 0);
  await Promise.all(runs.slice(0, 3));
  for (const ticket of tickets) ticket.close();
  assert.deepEqual(gate.state, { inFlight: 0, queuedBytes: 0, pending: 0, waiting: 0 });
});

test('sheds an arrival whose expected wait (jobs ahead / slots × mean job time) exceeds maxQueueWaitMs', () => {
  let nowMs = 0;
  const gate = new AdmissionGate({ maxInFlight: 1, maxQueuedBytes: 1e9, maxQueueWaitMs: 100 }, () => nowMs);
  // Teach the gate that a job takes 50 ms: after enough jobs the moving average is close to it.
  for (let i = 0; i < 60; i++) {
    const ticket = gate.admit(1);
    void ticket.acquireSlot();
    nowMs += 50;
    ticket.close();
  }
  const running = gate.admit(1);
  void running.acquireSlot();
  gate.admit(1); // one ahead of the next arrival: about 50 ms
  gate.admit(1); // two ahead: about 100 ms, still within
  assert.ok(gate.getExpectedWaitMs() > 100, `expected wait ${gate.getExpectedWaitMs()}`);
  assert.throws(() => gate.admit(1), isShed('queue-wait'));
  assert.equal(gate.getRetryAfterSeconds(), 1);
});

test('a waiter whose wait runs past maxQueueWaitMs is refused with queue-wait and leaves the queue', async () => {
  const gate = new AdmissionGate({ maxInFlight: 1, maxQueuedBytes: 1e9, maxQueueWaitMs: 20 });
  const running = gate.admit(1);
  await running.acquireSlot();
  const waiting = gate.admit(1);
  await assert.rejects(waiting.acquireSlot(), isShed('queue-wait'));
  assert.equal(gate.state.waiting, 0);
  waiting.close();
  running.close();
  assert.deepEqual(gate.state, { inFlight: 0, queuedBytes: 0, pending: 0, waiting: 0 });
});

test('limits come from the flag over the environment over the service config over the defaults', () => {
  const config = {
    file: 'shared/service.json',
    admission: { maxInFlight: 3, maxQueuedBytes: '8MB', maxQueueWaitMs: 250 },
  };
  assert.deepEqual(resolveAdmissionLimits({ flags: {}, processEnv: {} }), DEFAULT_ADMISSION_LIMITS);
  assert.deepEqual(resolveAdmissionLimits({ flags: {}, processEnv: {}, config }), {
    maxInFlight: 3,
    maxQueuedBytes: 8 * 1024 * 1024,
    maxQueueWaitMs: 250,
  });
  assert.deepEqual(
    resolveAdmissionLimits({
      flags: { maxInFlight: '5' },
      processEnv: { DHASH_MAX_IN_FLIGHT: '4', DHASH_MAX_QUEUED_BYTES: '1024' },
      config,
    }),
    {
      maxInFlight: 5,
      maxQueuedBytes: 1024,
      maxQueueWaitMs: 250,
    },
  );
});

test('a bad limit is a coded error naming the flag, the variable or the config path', () => {
  assert.throws(
    () => resolveAdmissionLimits({ flags: { maxInFlight: '0' }, processEnv: {} }),
    (e) =>
      isDhashError(e, 'EINVALIDOPTION') &&
      e.message ===
        'Expected the `--max-in-flight` option to be a positive integer (hashing jobs at once), got `0` (string).',
  );
  assert.throws(
    () => resolveAdmissionLimits({ flags: {}, processEnv: { DHASH_MAX_QUEUED_BYTES: '64 parsecs' } }),
    (e) =>
      isDhashError(e, 'EINVALIDOPTION') &&
      e.message.startsWith('Expected the `DHASH_MAX_QUEUED_BYTES` option to be a positive number of bytes'),
  );
  assert.throws(
    () =>
      resolveAdmissionLimits({
        flags: {},
        processEnv: {},
        config: { file: 'svc.json', admission: { maxQueueWaitMs: -1, maxInflight: 2 } },
      }),
    (e) =>
      isDhashError(e, 'EINVALIDCONFIG') &&
      e.message === 'The configuration file svc.json is invalid (2 problems).' &&
      e.details.includes('admission.maxQueueWaitMs: expected a non-negative integer of milliseconds, got -1') &&
      e.details.includes('admission.maxInflight: unknown setting'),
  );
});

test('dhash serve refuses a bad --max-queued-bytes with exit 2 before opening anything', async (t) => {
  const dir = await createTempDir(t);
  const result = await runCliForTest(['serve', '--port', '0', '--db', 'x.sqlite', '--max-queued-bytes', '-3'], {
    cwd: dir,
  });
  assert.equal(result.exitCode, 2);
  assert.match(
    result.stderr,
    new RegExp(
      'Expected the `--max-queued-bytes` option to be a positive number of bytes, optionally with KB, MB ' +
        'or GB \\(e\\.g\\. 64MB\\), got `-3` \\(string\\)\\.',
    ),
  );
});

test(`dhash serve reads the admission limits of service.json beside the database and refuses a bad one \
with exit 2`, async (t) => {
  const dir = await createTempDir(t);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/service.json`, JSON.stringify({ admission: { maxInFlight: 'many' } }));
  const result = await runCliForTest(['serve', '--port', '0', '--db', 'x.sqlite'], { cwd: dir });
  assert.equal(result.exitCode, 2);
  assert.match(result.stderr, /service\.json is invalid \(1 problem\)/);
  assert.match(
    result.stderr,
    /admission\.maxInFlight: expected a positive integer \(hashing jobs at once\), got "many"/,
  );
  const named = await runCliForTest(['serve', '--port', '0', '--db', 'x.sqlite', '--config', 'missing.json'], {
    cwd: dir,
  });
  assert.equal(named.exitCode, 2);
  assert.match(named.stderr, /missing\.json does not exist/);
});
