import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDhashError } from '../../../src/lib/errors.js';
import {
  createWavePlan,
  formatWavePlan,
  getReachedCount,
  getWavePlanProblems,
  type WavePlanInput,
} from '../../../src/rollout/core/wave-plan.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `web-${i + 1}`);
const input = (over: Partial<WavePlanInput> = {}): WavePlanInput => ({
  envName: 'production',
  hostNames: hosts(3),
  waves: [1, '100%'],
  bake: '4s',
  maxUnavailable: 0,
  ...over,
});

test('plans [1, "100%"] on three hosts as the first host, then the other two', () => {
  const plan = createWavePlan(input());
  assert.deepEqual(plan, {
    waves: [
      { number: 1, size: 1, hosts: ['web-1'], reachedCount: 1 },
      { number: 2, size: '100%', hosts: ['web-2', 'web-3'], reachedCount: 3 },
    ],
    bakeMs: 4000,
    maxUnavailable: 0,
    hostCount: 3,
  });
});

test('plans [1, "25%", "100%"] on twenty hosts with shares rounded up', () => {
  const plan = createWavePlan(input({ hostNames: hosts(20), waves: [1, '25%', '100%'], bake: '5m' }));
  assert.deepEqual(
    plan.waves.map((w) => [w.hosts.length, w.reachedCount, w.hosts[0], w.hosts.at(-1)]),
    [
      [1, 1, 'web-1', 'web-1'],
      [4, 5, 'web-2', 'web-5'],
      [15, 20, 'web-6', 'web-20'],
    ],
  );
  assert.equal(plan.bakeMs, 300_000);
});

test('rounds a share up: 25 % of 3 hosts is 1, 34 % is 2, 33 % of 300 is exactly 99', () => {
  assert.equal(getReachedCount('25%', 3), 1);
  assert.equal(getReachedCount('33%', 3), 1);
  assert.equal(getReachedCount('34%', 3), 2);
  assert.equal(getReachedCount('66%', 3), 2);
  assert.equal(getReachedCount('67%', 3), 3);
  assert.equal(getReachedCount('33%', 300), 99);
  assert.equal(getReachedCount('1%', 1), 1);
  assert.equal(getReachedCount('100%', 7), 7);
  assert.equal(getReachedCount('0%', 3), undefined);
  assert.equal(getReachedCount('101%', 3), undefined);
  assert.equal(getReachedCount(0, 3), undefined);
  assert.equal(getReachedCount(1.5, 3), undefined);
});

test('host by host: [1, 2, 3] gives one new host per wave', () => {
  assert.deepEqual(
    createWavePlan(input({ waves: [1, 2, 3] })).waves.map((w) => w.hosts),
    [['web-1'], ['web-2'], ['web-3']],
  );
});

test('a wave that adds no host is refused naming its index', () => {
  // 34 % of 3 is 2 (a new host); 33 % is 1, the same as the wave before.
  assert.deepEqual(getWavePlanProblems(input({ waves: [1, '34%', '100%'] })), []);
  assert.deepEqual(getWavePlanProblems(input({ waves: [1, '33%', '100%'] })), [
    {
      path: 'environments.production.target.waves[1]',
      message:
        'reaches 1 of 3 hosts, no more than the wave before it (1): ' +
        'waves are cumulative and each must add at least one host',
    },
  ]);
});

test('a last wave short of every host is refused; ending at the fleet size passes', () => {
  assert.deepEqual(getWavePlanProblems(input({ waves: [1, 3] })), []);
  assert.deepEqual(getWavePlanProblems(input({ waves: [1, 2] })), [
    {
      path: 'environments.production.target.waves[1]',
      message: 'the last wave reaches 2 of 3 hosts; it must reach every host (end with "100%")',
    },
  ]);
});

test('a count beyond the fleet, a bad share and a bad bake are all reported at once', () => {
  const problems = getWavePlanProblems(input({ waves: [4, '0%', '100%'], bake: '5 minutes' }));
  assert.deepEqual(problems, [
    { path: 'environments.production.target.waves[0]', message: 'reaches 4 hosts, but the fleet has 3' },
    {
      path: 'environments.production.target.waves[1]',
      message: 'expected a positive host count or a share such as "25%", got "0%"',
    },
    {
      path: 'environments.production.target.bake',
      message:
        'expected a duration such as "30s", "10m", "1h" or "5m 30s" (units ms, s, m, h, d), ' +
        'greater than zero, got "5 minutes"',
    },
  ]);
});

test('a zero bake is refused; one millisecond passes', () => {
  assert.equal(getWavePlanProblems(input({ bake: '0s' }))[0]?.path, 'environments.production.target.bake');
  assert.deepEqual(getWavePlanProblems(input({ bake: '1ms' })), []);
});

test('two hosts with one name are refused naming the second', () => {
  assert.deepEqual(getWavePlanProblems(input({ hostNames: ['web-1', 'web-2', 'web-1'] })), [
    { path: 'environments.production.target.hosts[2].name', message: 'host name `web-1` is also hosts[0]' },
  ]);
});

test('createWavePlan throws EINVALIDCONFIG (exit 2) naming environments.json and each path', () => {
  assert.throws(
    () => createWavePlan(input({ waves: [2, 2] })),
    (error: unknown) => {
      assert.ok(isDhashError(error, 'EINVALIDCONFIG'));
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, 'The configuration file environments.json is invalid (1 problem).');
      assert.match(error.details, /environments\.production\.target\.waves\[1\]: reaches 2 of 3 hosts/);
      return true;
    },
  );
});

test('formats one line per wave with its hosts and the bake', () => {
  assert.deepEqual(formatWavePlan(createWavePlan(input({ bake: '5m' }))), [
    'wave 1 (1 → 1/3 hosts): web-1; then bake 5m',
    'wave 2 ("100%" → 3/3 hosts): web-2, web-3; then bake 5m',
  ]);
});
