import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../src/lib/clock.js';

test('a manual clock wakes sleepers in deadline order only when advanced past them', async () => {
  const clock = createManualClock(0);
  const woke: string[] = [];
  void clock.sleep(2000).then(() => woke.push(`b@${clock.now()}`));
  void clock.sleep(1000).then(() => woke.push(`a@${clock.now()}`));
  await clock.advance(999);
  assert.deepEqual(woke, []);
  await clock.advance(1);
  assert.deepEqual(woke, ['a@1000']);
  await clock.advance(5000);
  assert.deepEqual(woke, ['a@1000', 'b@2000']);
  assert.equal(clock.now(), 6000);
});

test('a loop that sleeps repeatedly runs its whole schedule in one advance', async () => {
  const clock = createManualClock(0);
  const ticks: number[] = [];
  const loop = (async () => {
    for (let i = 0; i < 4; i++) {
      await clock.sleep(30_000);
      ticks.push(clock.now());
    }
  })();
  await clock.advance(3_600_000);
  await loop;
  assert.deepEqual(ticks, [30_000, 60_000, 90_000, 120_000]);
});
