import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createMonitorFixture,
  createScriptedSource,
  DEPLOY_ID,
  DEPLOY_START,
  getProductionGates,
} from './helpers/monitor-fixture.js';
import { readMonitorState } from '../../../src/rollout/monitor/monitor-state.js';
import { isDhashError } from '../../../src/lib/errors.js';

const S = 1000;
const M = 60_000;

test('a healthy release polls at the exact cadence for 60 minutes and ends all clear (exit 0)', async (t) => {
  const f = await createMonitorFixture(t);
  const source = createScriptedSource(f.clock);
  const result = await f.run({ signalSource: source });
  assert.equal(result.outcome, 'all-clear');
  assert.equal(result.exitCode, 0);
  const expected = [
    ...Array.from({ length: 11 }, (_, i) => i * 30 * S),
    ...Array.from({ length: 27 }, (_, i) => 300 * S + (i + 1) * 120 * S),
    3600 * S,
  ];
  assert.deepEqual(
    f.records.map((r) => r.elapsedMs),
    expected,
  );
  assert.deepEqual(
    f.records.map((r) => r.pollIndex),
    expected.map((_, i) => i),
  );
  assert.equal(f.clock.now(), DEPLOY_START + 60 * M);
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['monitor-start', 'monitor-complete'],
  );
  const lines = (await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.jsonl`), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 39);
  const summary = JSON.parse(await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.summary.json`), 'utf8'));
  assert.equal(summary.outcome, 'all-clear');
  assert.equal(summary.polls, 39);
  assert.equal(summary.gates.lowConfidenceQueue.worstValue, 4);
  // Every monitored deploy leaves its self-contained HTML report beside the logs.
  const report = await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.html`), 'utf8');
  assert.match(report, /<svg/);
  assert.ok(report.includes(DEPLOY_ID));
  // First poll: one sample, no increase yet → insufficient data, logged, not a pass nor a violation.
  assert.equal(f.records[0].gates.find((g) => g.name === 'extractionFailureRate')?.verdict, 'insufficient-data');
  assert.equal(f.records[1].gates.find((g) => g.name === 'extractionFailureRate')?.verdict, 'pass');
  assert.deepEqual(f.records[1].signals.extraction, { attempts: 50, failures: 0 });
  assert.equal(f.calls.rollback.length, 0);
});

test(`metrics endpoint down: each blind poll is a failed health check; the 3rd rolls back exactly once \
(exit 1)`, async (t) => {
  const f = await createMonitorFixture(t);
  const source = createScriptedSource(f.clock, (o, v) =>
    o >= 600 * S ? { health: v.health, host: v.host, metricsError: 'ECONNREFUSED' } : v,
  );
  const result = await f.run({ signalSource: source });
  assert.equal(result.outcome, 'rolled-back');
  assert.equal(result.exitCode, 1);
  const blind = f.records.filter((r) => r.elapsedMs >= 600 * S);
  assert.deepEqual(
    blind.map((r) => [r.elapsedMs / S, r.gates[0].value, r.gates[0].verdict, r.state]),
    [
      [660, 1, 'pass', 'warning'],
      [780, 2, 'warning', 'warning'],
      [900, 3, 'violated', 'violated'],
    ],
  );
  assert.deepEqual(blind[2].actions?.includes('rollback'), true);
  assert.equal(f.records.length, 16);
  assert.deepEqual(f.calls.rollback, [join(f.root, 'backups', 'dhash_20261128T005900000Z_production.zip')]);
  assert.deepEqual(
    f.sent.map((n) => `${n.event}${n.gate ? `:${n.gate.name}` : ''}`),
    [
      'monitor-start',
      'gate-warning:extractionFailureRate',
      'gate-warning:p95HashTime',
      'gate-warning:lowConfidenceQueue',
      'gate-warning:health',
      'gate-violation:health',
      'rollback-start:health',
      'rollback-success:health',
    ],
  );
  assert.equal(f.incidents.length, 1);
  assert.equal(f.incidents[0].trigger.gate, 'health');
  const state = await readMonitorState(f.environment);
  assert.equal(state?.rollback?.status, 'succeeded');
  assert.equal(state?.outcome, 'rolled-back');
  const summary = JSON.parse(await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.summary.json`), 'utf8'));
  assert.deepEqual(summary.violation, {
    gate: 'health',
    value: 3,
    threshold: 2,
    at: new Date(DEPLOY_START + 900 * S).toISOString(),
  });
  assert.equal(summary.rollback.incidentId, 'incident-1');
  assert.equal(summary.rollback.thirdOkHealthAt, new Date(DEPLOY_START + 903 * S).toISOString());
});

test('many gates firing at once still roll back exactly once', async (t) => {
  const f = await createMonitorFixture(t);
  const source = createScriptedSource(f.clock, (o, v) => {
    if (o < 120 * S || v.metrics?.kind !== 'cumulative') return v;
    return {
      ...v,
      health: { ok: false, httpStatus: 503, latencyMs: 2 },
      metrics: { ...v.metrics, queueLength: 5000, extractionFailure: Math.floor(o / 100) },
    };
  });
  const result = await f.run({ signalSource: source });
  assert.equal(result.exitCode, 1);
  assert.equal(f.calls.rollback.length, 1);
  assert.equal(f.sent.filter((n) => n.event === 'rollback-start').length, 1);
  assert.equal(f.records.at(-1)?.gates.filter((g) => g.verdict === 'violated').length, 2);
});

test('a failure spike that leaves the 10 min window stops counting: violated, then recovery', async (t) => {
  const f = await createMonitorFixture(t);
  const gates = await getProductionGates();
  gates.gates.extractionFailureRate.action = 'alert';
  // 30 failures between 60 s and 90 s after the deploy, none after.
  const source = createScriptedSource(f.clock, (o, v) =>
    v.metrics?.kind === 'cumulative' ? { ...v, metrics: { ...v.metrics, extractionFailure: o >= 90 * S ? 30 : 0 } } : v,
  );
  const result = await f.run({ signalSource: source, gates });
  assert.equal(result.exitCode, 0);
  const verdictAt = (s: number) =>
    f.records.find((r) => r.elapsedMs === s * S)?.gates.find((g) => g.name === 'extractionFailureRate');
  assert.equal(verdictAt(60)?.verdict, 'pass');
  assert.equal(verdictAt(90)?.verdict, 'violated');
  assert.equal(verdictAt(90)?.value, (30 * 100) / 180);
  // The sample taken at 60 s (the spike's baseline) is exactly 10 min old at 660 s: still counted; at 780 s it is gone.
  const failuresAt = (s: number) => f.records.find((r) => r.elapsedMs === s * S)?.signals.extraction;
  assert.deepEqual(failuresAt(660), { attempts: 1030, failures: 30 });
  assert.deepEqual(failuresAt(780), { attempts: 1000, failures: 0 });
  assert.equal(verdictAt(780)?.value, 0);
  assert.equal(verdictAt(780)?.verdict, 'pass');
  const events = f.sent
    .filter((n) => n.gate?.name === 'extractionFailureRate')
    .map((n) => `${n.event}:${n.fields?.transition}`);
  assert.deepEqual(events, ['gate-warning:ok → warning', 'gate-warning:warning → ok']);
  assert.equal(f.calls.rollback.length, 0);
});

test('a service restart (counter reset) is counted as Prometheus increase() does', async (t) => {
  const f = await createMonitorFixture(t);
  // From 150 s the service restarted: counters start again from zero.
  const source = createScriptedSource(f.clock, (o, v) => {
    if (v.metrics?.kind !== 'cumulative' || o < 150 * S) return v;
    const n = Math.floor((o - 140 * S) / 600);
    return {
      ...v,
      metrics: {
        ...v.metrics,
        extractionSuccess: n,
        extractionFailure: 1,
        hashBuckets: { '0.1': n, '2': n, '5': n, Infinity: n },
      },
    };
  });
  await f.run({ signalSource: source });
  const at150 = f.records.find((r) => r.elapsedMs === 150 * S)!;
  // 10 min window at 150 s: 0→50→100→200 (pre-restart polls 0..120 s gives 200) then reset: 16 + 1 new.
  assert.deepEqual(at150.signals.extraction, { attempts: 200 + 16 + 1, failures: 1 });
  assert.equal(at150.gates.find((g) => g.name === 'extractionFailureRate')?.verdict, 'pass');
});

test('a monitor stopped mid-window resumes the same window at the next poll index, without resetting', async (t) => {
  const f = await createMonitorFixture(t);
  const source = createScriptedSource(f.clock);
  const controller = new AbortController();
  const first = await f.run({
    signalSource: source,
    signal: controller.signal,
    onPoll: (r) => (f.records.push(r), r.pollIndex === 4 && controller.abort()),
  });
  assert.equal(first.outcome, 'aborted');
  assert.equal(first.exitCode, 3);
  const saved = await readMonitorState(f.environment);
  assert.equal(saved?.pollIndex, 5);
  assert.equal(saved?.windowStartMs, DEPLOY_START);
  // Restarted 100 s later (missed polls at 150 s … 210 s): one catch-up poll now, then back on the schedule.
  await f.clock.advance(100 * S);
  f.records.length = 0;
  const second = await f.run({ signalSource: source });
  assert.equal(second.outcome, 'all-clear');
  assert.deepEqual(
    f.records.slice(0, 3).map((r) => [r.pollIndex, r.elapsedMs / S]),
    [
      [5, 220],
      [6, 250],
      [7, 280],
    ],
  );
  assert.equal(f.sent.filter((n) => n.event === 'monitor-start').length, 2);
});

test('a restart after a rollback was started never starts a second one', async (t) => {
  const f = await createMonitorFixture(t);
  const source = createScriptedSource(f.clock);
  const controller = new AbortController();
  await f.run({
    signalSource: source,
    signal: controller.signal,
    onPoll: (r) => r.pollIndex === 2 && controller.abort(),
  });
  const saved = (await readMonitorState(f.environment))!;
  saved.rollback = { status: 'started', startedAt: new Date(f.clock.now()).toISOString() };
  await writeFile(join(f.environment.stateDir, 'monitor-state.json'), JSON.stringify(saved));
  await mkdir(join(f.environment.root, 'releases', 'r1'), { recursive: true });
  await rm(f.environment.currentLink);
  await symlink('releases/r1', f.environment.currentLink);
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (_o, v) => ({ ...v, health: { ok: false, latencyMs: 1 } })),
  });
  assert.equal(result.outcome, 'rolled-back');
  assert.equal(result.exitCode, 1);
  assert.match(result.message, /not starting another\. Release r1 is serving\./);
  assert.equal(f.calls.rollback.length, 0);
});

test('a backup that fails verification blocks the rollback: untouched, critical incident, exit 4', async (t) => {
  const f = await createMonitorFixture(t, { backupOk: false });
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (_o, v) => ({
      ...v,
      health: { ok: false, httpStatus: 503, latencyMs: 1 },
    })),
  });
  assert.equal(result.outcome, 'rollback-blocked');
  assert.equal(result.exitCode, 4);
  assert.equal(f.calls.verify.length, 1);
  assert.equal(f.calls.rollback.length, 0);
  assert.equal(f.incidents[0].severity, 'critical');
  assert.equal(f.incidents[0].backup?.verified, false);
  assert.match(f.sent.at(-1)!.message!, /blocked, production untouched: backup failed verification: ECHECKSUMMISMATCH/);
  assert.deepEqual(
    f.records.map((r) => r.elapsedMs / S),
    [0, 30, 60],
  );
});

test(`no backup at all: blocked, the release keeps serving (nothing is stopped), critical incident, \
exit 4`, async (t) => {
  const f = await createMonitorFixture(t, { backupFile: '' });
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (_o, v) => ({ ...v, health: { ok: false, latencyMs: 1 } })),
  });
  assert.equal(result.exitCode, 4);
  assert.equal(f.calls.verify.length + f.calls.rollback.length, 0);
  assert.match(f.incidents[0].title ?? '', /no backup/);
  assert.equal(f.incidents[0].severity, 'critical');
  assert.equal(f.sent.at(-1)!.fields?.reason, 'no backup to roll back to; r2 keeps serving');
});

test(`first deploy: nothing to roll back to, so the only release keeps serving; rollback-failure with \
the exact reason, exit 4`, async (t) => {
  const f = await createMonitorFixture(t, { isFirstDeploy: true });
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (_o, v) => ({ ...v, health: { ok: false, latencyMs: 1 } })),
  });
  assert.equal(result.outcome, 'rollback-blocked');
  assert.equal(result.exitCode, 4);
  assert.equal(f.calls.verify.length + f.calls.rollback.length, 0);
  const failure = f.sent.filter((n) => n.event === 'rollback-failure');
  assert.equal(failure.length, 1);
  assert.equal(failure[0].fields?.reason, 'first deploy: nothing to roll back to');
  assert.equal(
    f.sent.some((n) => n.event === 'rollback-start'),
    false,
  );
  assert.equal(f.incidents[0].severity, 'critical');
  assert.equal(f.incidents[0].rollback?.strategy, 'none');
  assert.match(f.incidents[0].trigger.description ?? '', /^rollback-blocked: first deploy: nothing to roll back to$/);
});

test('dry run logs what it would do and never rolls back', async (t) => {
  const f = await createMonitorFixture(t);
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (o, v) =>
      o >= 3000 * S ? { ...v, health: { ok: false, latencyMs: 1 } } : v,
    ),
    isDryRun: true,
  });
  assert.equal(result.exitCode, 0);
  assert.equal(result.outcome, 'window-over');
  assert.equal(f.calls.rollback.length + f.calls.verify.length, 0);
  assert.deepEqual(f.records.at(-1)?.actions, ['would-rollback:health']);
});

test('started after the window ended: says so and exits 0; --from-now opens a fresh window', async (t) => {
  const f = await createMonitorFixture(t, { startOffsetMs: 61 * M });
  const source = createScriptedSource(f.clock);
  const over = await f.run({ signalSource: source });
  assert.equal(over.outcome, 'window-over');
  assert.equal(over.exitCode, 0);
  assert.match(over.message, /ended at 2026-11-28T02:00:00\.000Z; nothing to watch\. Run with --from-now/);
  assert.equal(source.calls, 0);
  const fresh = await f.run({ signalSource: source, isFromNow: true });
  assert.equal(fresh.outcome, 'all-clear');
  assert.equal(f.records[0].elapsedMs, 0);
  assert.equal(f.clock.now(), DEPLOY_START + 121 * M);
});

test('a second monitor of the same environment is refused with exit 3', async (t) => {
  const f = await createMonitorFixture(t);
  await mkdir(f.environment.stateDir, { recursive: true });
  await writeFile(join(f.environment.stateDir, 'monitor.lock'), JSON.stringify({ pid: process.pid, startedAt: 'x' }));
  await assert.rejects(
    f.run({ signalSource: createScriptedSource(f.clock) }),
    (e) => isDhashError(e, 'EMONITORLOCKED') && e.exitCode === 3,
  );
  await writeFile(
    join(f.environment.stateDir, 'monitor.lock'),
    JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'x' }),
  );
  const result = await f.run({ signalSource: createScriptedSource(f.clock) });
  assert.equal(result.exitCode, 0);
});
