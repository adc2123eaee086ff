// The safety path: shielded from the interrupt that stopped the deploy, abandoned by a second one within 5 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../../src/lib/clock.js';
import {
  createInterrupts,
  ESCAPE_WINDOW_MS,
  getInterrupts,
  runSafetyOperation,
} from '../../../src/rollout/deploy/safety-path.js';

/** A safety operation that finishes only when the test says so (or rejects when its escape signal aborts). */
function createControlledOperation() {
  let finish: (value: string) => void = () => {};
  let receivedEscape: AbortSignal | undefined;
  const run = (escape: AbortSignal) => {
    receivedEscape = escape;
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      escape.addEventListener('abort', () => reject(escape.reason), { once: true });
    });
  };
  return { run, finish: (v: string) => finish(v), getEscape: () => receivedEscape };
}

const settle = () => new Promise((r) => setImmediate(r));

test('an operation begun after the first interrupt runs to completion and never sees the abort signal', async () => {
  const clock = createManualClock();
  const { interrupts, fire } = createInterrupts(clock);
  fire('SIGINT');
  assert.equal(interrupts.signal.aborted, true);
  const op = createControlledOperation();
  const notices: string[] = [];
  const outcome = runSafetyOperation({
    name: 'deploy:switch-back',
    clock,
    signal: interrupts.signal,
    run: op.run,
    describeLeftState: async () => 'unused',
    onNotice: (l) => notices.push(l),
  });
  await settle();
  assert.notEqual(op.getEscape(), interrupts.signal);
  assert.equal(op.getEscape()?.aborted, false);
  op.finish('switched back');
  assert.deepEqual(await outcome, { isAbandoned: false, value: 'switched back' });
  assert.deepEqual(notices, [
    '  ! deploy:switch-back runs to completion despite the interrupt; interrupt again within 5 s to abandon it',
  ]);
});

test('a second interrupt within 5 s of the first abandons the operation and reports the state left', async () => {
  const clock = createManualClock();
  const { interrupts, fire } = createInterrupts(clock);
  fire('SIGINT');
  const op = createControlledOperation();
  const outcome = runSafetyOperation({
    name: 'deploy:switch-back',
    clock,
    signal: interrupts.signal,
    run: op.run,
    describeLeftState: async () =>
      'current → releases/A; http://127.0.0.1:1/health did not answer health OK (ECONNREFUSED)',
  });
  await settle();
  await clock.advance(ESCAPE_WINDOW_MS);
  fire('SIGINT');
  assert.deepEqual(await outcome, {
    isAbandoned: true,
    leftState: 'current → releases/A; http://127.0.0.1:1/health did not answer health OK (ECONNREFUSED)',
  });
  assert.equal(op.getEscape()?.aborted, true);
  assert.match(String((op.getEscape()?.reason as Error).message), /^deploy:switch-back abandoned by a second SIGINT$/);
});

test('an interrupt more than 5 s after the previous one only warns; the one after it within 5 s abandons', async () => {
  const clock = createManualClock();
  const { interrupts, fire } = createInterrupts(clock);
  fire('SIGTERM');
  const op = createControlledOperation();
  const notices: string[] = [];
  const outcome = runSafetyOperation({
    name: 'rollback:healthcheck',
    clock,
    signal: interrupts.signal,
    run: op.run,
    describeLeftState: async () => 'left',
    onNotice: (l) => notices.push(l),
  });
  await settle();
  await clock.advance(ESCAPE_WINDOW_MS + 1);
  fire('SIGINT');
  await settle();
  assert.equal(op.getEscape()?.aborted, false);
  assert.equal(
    notices.at(-1),
    '  ! SIGINT: rollback:healthcheck is running and will finish; interrupt again within 5 s to abandon it',
  );
  await clock.advance(4000);
  fire('SIGINT');
  assert.deepEqual(await outcome, { isAbandoned: true, leftState: 'left' });
});

test('errors of the operation propagate unchanged, and a plain AbortSignal has no interrupts to watch', async () => {
  const clock = createManualClock();
  const controller = new AbortController();
  controller.abort();
  assert.equal(getInterrupts(controller.signal), undefined);
  await assert.rejects(
    runSafetyOperation({
      name: 'deploy:switch-back',
      clock,
      signal: controller.signal,
      run: async () => {
        throw new Error('health check failed: timeout');
      },
      describeLeftState: async () => 'left',
    }),
    /^Error: health check failed: timeout$/,
  );
  const value = await runSafetyOperation({
    name: 'deploy:switch-back',
    clock,
    signal: controller.signal,
    run: async (escape) => escape.aborted,
    describeLeftState: async () => 'left',
  });
  assert.deepEqual(value, { isAbandoned: false, value: false });
});
