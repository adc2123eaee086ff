import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getIntervalAtMs, getPollOffsetsMs, getResumeOffsetMs } from '../../../src/rollout/core/poll-schedule.js';

const S = 1000;
const M = 60_000;
const production = [{ everyMs: 30 * S, forMs: 5 * M }, { everyMs: 120 * S }];

test('polls every 30 s until 5 min, then every 120 s, and lands on the end of the 60 min window', () => {
  const expected = [
    ...Array.from({ length: 11 }, (_, i) => i * 30 * S), // 0 … 300 s
    ...Array.from({ length: 27 }, (_, i) => 300 * S + (i + 1) * 120 * S), // 420 … 3540 s
    3600 * S,
  ];
  assert.deepEqual(getPollOffsetsMs(production, 60 * M), expected);
  assert.equal(expected.length, 39);
});

test('the interval switches exactly at the end of the first phase', () => {
  assert.equal(getIntervalAtMs(production, 5 * M - 1), 30 * S);
  assert.equal(getIntervalAtMs(production, 5 * M), 120 * S);
});

test('a single-phase cadence polls evenly to the end', () => {
  assert.deepEqual(getPollOffsetsMs([{ everyMs: 2 * S }], 10 * S), [0, 2000, 4000, 6000, 8000, 10000]);
  assert.deepEqual(getPollOffsetsMs([{ everyMs: 3 * S }], 10 * S), [0, 3000, 6000, 9000, 10000]);
});

test('a resumed monitor continues on the schedule, or polls once at once when it missed polls', () => {
  assert.equal(getResumeOffsetMs(production, 60 * M, undefined, 0), 0);
  assert.equal(getResumeOffsetMs(production, 60 * M, 60 * S, 70 * S), 90 * S);
  assert.equal(getResumeOffsetMs(production, 60 * M, 60 * S, 90 * S), 90 * S);
  assert.equal(getResumeOffsetMs(production, 60 * M, 60 * S, 91 * S), 91 * S);
  assert.equal(getResumeOffsetMs(production, 60 * M, 60 * S, 2 * 60 * M), 60 * M);
  assert.equal(getResumeOffsetMs(production, 60 * M, 60 * M, 61 * M), undefined);
});
