// The heartbeat judgement (pure, manual clock): when a monitor
// inside its window counts as not beating, and what it says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../../src/lib/clock.js';
import {
  HEARTBEAT_EVERY_MS,
  HEARTBEAT_MARGIN_MS,
  isHeartbeatStale,
  judgeMonitorHealth,
  type MonitorHealthInput,
} from '../../../src/rollout/monitor/monitor-health.js';
import { renderMonitorProm } from '../../../src/rollout/monitor/monitor-heartbeat.js';

const START_MS = Date.UTC(2026, 10, 28, 1, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function createState(
  overrides: Partial<NonNullable<MonitorHealthInput['state']>> = {},
): NonNullable<MonitorHealthInput['state']> {
  return {
    env: 'production',
    deployId: 'production-20261128T010000000Z',
    releaseId: 'r2',
    windowStartMs: START_MS,
    windowMs: 3_600_000,
    firstStartedAt: iso(START_MS),
    pid: 4242,
    heartbeatAt: iso(START_MS + 60_000),
    heartbeatIntervalMs: 30_000,
    ...overrides,
  };
}

const alive = { lockPid: 4242, isLockPidAlive: true, servingReleaseId: 'r2' };

test(`a live monitor is beating up to its expected gap plus the margin, and not beating one millisecond \
later`, async () => {
  const clock = createManualClock(START_MS + 60_000);
  const state = createState();
  await clock.advance(30_000 + HEARTBEAT_MARGIN_MS);
  assert.equal(judgeMonitorHealth({ state, ...alive, nowMs: clock.now() }).status, 'beating');
  await clock.advance(1);
  const health = judgeMonitorHealth({ state, ...alive, nowMs: clock.now() });
  assert.equal(health.status, 'not-beating');
  assert.equal(health.reason, 'pid 4242 is alive but silent for 1m (it beats every 30s)');
});

test('a shorter expected gap (1 s polls) moves the boundary: stale after 1 s + margin', () => {
  const state = createState({ heartbeatIntervalMs: 1000 });
  const beatMs = START_MS + 60_000;
  assert.equal(isHeartbeatStale(beatMs, 1000, beatMs + 1000 + HEARTBEAT_MARGIN_MS), false);
  assert.equal(isHeartbeatStale(beatMs, 1000, beatMs + 1000 + HEARTBEAT_MARGIN_MS + 1), true);
  assert.equal(
    judgeMonitorHealth({ state, ...alive, nowMs: beatMs + 1000 + HEARTBEAT_MARGIN_MS + 1 }).status,
    'not-beating',
  );
  // A 120 s poll cadence never stretches the judgement: the monitor
  // beats at least every HEARTBEAT_EVERY_MS while it sleeps.
  assert.equal(isHeartbeatStale(beatMs, 120_000, beatMs + HEARTBEAT_EVERY_MS + HEARTBEAT_MARGIN_MS + 1), true);
});

test('a dead pid is not beating at once, and the warning says since when and how to resume', () => {
  const state = createState();
  const health = judgeMonitorHealth({
    state,
    lockPid: 4242,
    isLockPidAlive: false,
    servingReleaseId: 'r2',
    nowMs: START_MS + 61_000,
  });
  assert.equal(health.status, 'not-beating');
  assert.equal(health.reason, 'its process (pid 4242) is gone');
  assert.deepEqual(health.warnings, [
    'the monitor of production (deploy production-20261128T010000000Z, release r2) has stopped beating ' +
      'since 2026-11-28T01:01:00.000Z: ' +
      'its process (pid 4242) is gone. The rest of its window, until 2026-11-28T02:00:00.000Z, is unguarded. ' +
      'Resume it: node scripts/monitor_dhash.js --env production --deploy production-20261128T010000000Z --resume',
  ]);
  const unlocked = judgeMonitorHealth({
    state,
    isLockPidAlive: false,
    servingReleaseId: 'r2',
    nowMs: START_MS + 61_000,
  });
  assert.equal(unlocked.reason, 'no monitor holds its lock (pid 4242 is gone)');
});

test(`a finished window, or one that is over, raises no warning; a rollback in progress is alive however long \
it takes`, () => {
  assert.deepEqual(
    judgeMonitorHealth({
      state: createState({ outcome: 'all-clear' }),
      isLockPidAlive: false,
      nowMs: START_MS + 61_000,
    }).warnings,
    [],
  );
  assert.equal(
    judgeMonitorHealth({
      state: createState(),
      isLockPidAlive: false,
      servingReleaseId: 'r2',
      nowMs: START_MS + 3_600_000,
    }).status,
    'window-over',
  );
  assert.equal(judgeMonitorHealth({ state: undefined, isLockPidAlive: false, nowMs: START_MS }).status, 'none');
  const rollingBack = createState({ rollback: { status: 'started', startedAt: iso(START_MS + 60_000) } });
  const health = judgeMonitorHealth({
    state: rollingBack,
    ...alive,
    servingReleaseId: 'r1',
    nowMs: START_MS + 600_000,
  });
  assert.equal(health.status, 'beating');
  assert.deepEqual(health.warnings, []);
});

test('a beating monitor watching a release that is not serving says so plainly', () => {
  const health = judgeMonitorHealth({
    state: createState(),
    ...alive,
    servingReleaseId: 'r3',
    nowMs: START_MS + 61_000,
  });
  assert.equal(health.status, 'beating');
  assert.equal(health.isWatchingServing, false);
  assert.deepEqual(health.warnings, [
    'the monitor of production watches deploy production-20261128T010000000Z (release r2), but r3 is ' +
      'serving: it will not act on that release.',
  ]);
});

test('a lock held by another pid than the state names is not this monitor beating', () => {
  const health = judgeMonitorHealth({
    state: createState(),
    lockPid: 999,
    isLockPidAlive: true,
    servingReleaseId: 'r2',
    nowMs: START_MS + 61_000,
  });
  assert.equal(health.reason, 'the lock is held by pid 999, not by its monitor (pid 4242)');
});

test('monitor.prom exposes the heartbeat, the window end and whether the window is watched, in the text format', () => {
  const state = createState();
  assert.equal(
    renderMonitorProm(state, START_MS + 61_500),
    [
      "# HELP dhash_monitor_last_poll_timestamp_seconds Unix time of the dhash monitor's last poll or " +
        'heartbeat (it beats at least every 30 s).',
      '# TYPE dhash_monitor_last_poll_timestamp_seconds gauge',
      'dhash_monitor_last_poll_timestamp_seconds{env="production",deploy_id="production-20261128T010000000Z"} ' +
        '1795827661.500',
      "# HELP dhash_monitor_window_end_timestamp_seconds Unix time at which the watched deploy's monitor window ends.",
      '# TYPE dhash_monitor_window_end_timestamp_seconds gauge',
      'dhash_monitor_window_end_timestamp_seconds{env="production",deploy_id="production-20261128T010000000Z"} ' +
        '1795831200.000',
      '# HELP dhash_monitor_active 1 while the monitor watches its window, 0 once it finished (any outcome).',
      '# TYPE dhash_monitor_active gauge',
      'dhash_monitor_active{env="production",deploy_id="production-20261128T010000000Z"} 1',
      '',
    ].join('\n'),
  );
  assert.match(renderMonitorProm({ ...state, outcome: 'superseded' }, START_MS), /dhash_monitor_active\{[^}]+\} 0\n$/);
});
