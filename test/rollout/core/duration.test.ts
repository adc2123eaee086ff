import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDurationMs, parseDurationMs } from '../../../src/rollout/core/duration.js';

test('parses single and compound durations into milliseconds', () => {
  assert.equal(parseDurationMs('30s'), 30_000);
  assert.equal(parseDurationMs('10m'), 600_000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
  assert.equal(parseDurationMs('5m 30s'), 330_000);
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  assert.equal(parseDurationMs('250ms'), 250);
});

test('rejects text that is not a sequence of number-unit parts', () => {
  for (const bad of ['', '30', 's', '5 minutes', '-5s', '5m garbage', '1y'])
    assert.equal(parseDurationMs(bad), undefined, bad);
});

test('formats milliseconds with the largest whole units', () => {
  assert.equal(formatDurationMs(330_000), '5m 30s');
  assert.equal(formatDurationMs(1500), '1.5s');
  assert.equal(formatDurationMs(3_600_000), '1h');
  assert.equal(formatDurationMs(999), '999ms');
});
