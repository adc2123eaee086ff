import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  getCounterDelta,
  getHistogramIncreaseOverWindow,
  getIncreaseOverWindow,
} from '../../../src/rollout/core/counter-delta.js';
import { getHistogramQuantile } from '../../../src/rollout/core/histogram-quantile.js';
import { getWindowAverage, pruneSamples, selectWindowSamples } from '../../../src/rollout/core/sliding-window.js';

const s = (atMs: number, value: number) => ({ atMs, value });

test('a counter that drops restarted from zero: the delta is the new value', () => {
  assert.equal(getCounterDelta(10, 15), 5);
  assert.equal(getCounterDelta(100, 7), 7);
  assert.equal(getCounterDelta(7, 7), 0);
});

test('increase over a window sums reset-aware deltas, as Prometheus increase() without extrapolation', () => {
  const samples = [s(0, 50), s(1000, 80), s(2000, 5), s(3000, 25)];
  assert.equal(getIncreaseOverWindow(samples, 3000, 3000), 30 + 5 + 20);
  assert.equal(getIncreaseOverWindow(samples, 3000, 2000), 5 + 20);
  assert.equal(getIncreaseOverWindow(samples, 3000, 999), 0);
});

test('a sample exactly windowMs old still counts; one ms older does not', () => {
  const samples = [s(0, 1), s(10, 2)];
  assert.equal(selectWindowSamples(samples, 100, 100).length, 2);
  assert.equal(selectWindowSamples(samples, 101, 100).length, 1);
});

test('a spike that leaves the window stops counting', () => {
  // 40 failures between t=0 and t=1 min, then nothing; 10 min window.
  const samples = [s(0, 0), s(60_000, 40), s(120_000, 40), s(660_000, 40), s(720_000, 40)];
  assert.equal(getIncreaseOverWindow(samples, 600_000, 600_000), 40);
  assert.equal(getIncreaseOverWindow(samples, 660_000, 600_000), 0 + 0);
  assert.equal(getIncreaseOverWindow(samples, 660_000, 600_000 + 1), 0);
  assert.equal(getIncreaseOverWindow(samples, 660_000, 600_000 + 60_000), 40);
});

test('pruning keeps one baseline sample older than the longest window', () => {
  const samples = [s(0, 1), s(1000, 2), s(2000, 3), s(3000, 4)];
  assert.deepEqual(pruneSamples(samples, 3000, 1500), [s(1000, 2), s(2000, 3), s(3000, 4)]);
  assert.deepEqual(pruneSamples(samples, 99_000, 1500), [s(3000, 4)]);
  assert.equal(getWindowAverage([s(0, 10), s(1000, 20), s(2000, 60)], 2000, 1000), 40);
  assert.equal(getWindowAverage([], 2000, 1000), undefined);
});

test('histogram increases reset as a whole when any bucket goes down', () => {
  const samples = [
    { atMs: 0, value: { '1': 5, '2': 8, Infinity: 10 } },
    { atMs: 1000, value: { '1': 6, '2': 10, Infinity: 13 } },
    { atMs: 2000, value: { '1': 1, '2': 1, Infinity: 2 } },
  ];
  assert.deepEqual(getHistogramIncreaseOverWindow(samples, 2000, 5000), { '1': 1 + 1, '2': 2 + 1, Infinity: 3 + 2 });
});

test('p95 interpolates inside the bucket; exactly all-but-5 % at or under le=2 gives exactly 2 s', () => {
  assert.equal(getHistogramQuantile(0.95, { '0.5': 0, '1': 50, '2': 95, Infinity: 100 }), 2);
  // One more observation above 2 s pushes the rank into +Inf: the
  // highest finite bound is returned… but above 2 it must be.
  assert.equal(
    getHistogramQuantile(0.95, { '0.5': 0, '1': 50, '2': 94, '5': 100, Infinity: 100 }),
    2 + 3 * ((95 - 94) / 6),
  );
  assert.equal(getHistogramQuantile(0.95, { '0.5': 0, '1': 50, '2': 94, Infinity: 100 }), 2);
  assert.equal(getHistogramQuantile(0.5, { '1': 0, '2': 100, Infinity: 100 }), 1.5);
  assert.equal(getHistogramQuantile(0.5, { '1': 100, Infinity: 100 }), 0.5);
  assert.equal(getHistogramQuantile(0.95, { '1': 0, Infinity: 0 }), undefined);
  assert.equal(getHistogramQuantile(0.95, { '1': 3 }), undefined);
});
