// The monitor's side of issue 9: a supersede request ends it as
// `superseded`; it never acts on a release that is not serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMonitorFixture, createScriptedSource, DEPLOY_ID } from './helpers/monitor-fixture.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { appendJournal } from '../../../src/rollout/state/journal.js';
import { getMonitorLockFile } from '../../../src/rollout/monitor/monitor-lock.js';
import { readMonitorState } from '../../../src/rollout/monitor/monitor-state.js';
import { getSupersedeRequestFile, supersedeMonitor } from '../../../src/rollout/monitor/supersede-monitor.js';
import { getMonitorEnvFile } from '../../../src/rollout/monitor/monitor-unit.js';
import { createSilentLogger } from '../../../src/lib/logger.js';

const NEW_DEPLOY = 'production-20261128T011500000Z';

test(`SIGTERM after a supersede request ends the monitor as superseded: state, summary, report, \
monitor-complete, lock released`, async (t) => {
  const f = await createMonitorFixture(t);
  const controller = new AbortController();
  const result = await f.run({
    signalSource: createScriptedSource(f.clock),
    signal: controller.signal,
    onPoll: (r) => {
      if (r.pollIndex !== 2) return;
      void writeFile(
        getSupersedeRequestFile(f.environment),
        JSON.stringify({ pid: process.pid, byDeployId: NEW_DEPLOY, requestedAt: r.time }),
      ).then(() => controller.abort());
    },
  });
  assert.equal(result.outcome, 'superseded');
  assert.equal(result.exitCode, 3);
  assert.match(
    result.message,
    new RegExp(`is superseded by ${NEW_DEPLOY}: ${NEW_DEPLOY} took over production\\. It stopped without acting\\.`),
  );
  const state = (await readMonitorState(f.environment))!;
  assert.equal(state.outcome, 'superseded');
  assert.equal(state.supersededBy, NEW_DEPLOY);
  const summary = JSON.parse(await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.summary.json`), 'utf8'));
  assert.equal(summary.outcome, 'superseded');
  assert.equal(summary.supersededBy, NEW_DEPLOY);
  assert.match(
    await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.html`), 'utf8'),
    /<span class="badge">superseded<\/span>/,
  );
  const complete = f.sent.find((n) => n.event === 'monitor-complete');
  assert.equal(complete?.fields?.outcome, 'superseded');
  assert.equal(complete?.fields?.supersededBy, NEW_DEPLOY);
  assert.equal(existsSync(getMonitorLockFile(f.environment)), false);
  assert.equal(existsSync(getSupersedeRequestFile(f.environment)), false, 'the request is consumed');
  assert.match(
    await readFile(join(f.environment.stateDir, 'monitor.prom'), 'utf8'),
    /dhash_monitor_active\{env="production",deploy_id="production-20261128T010000000Z"\} 0\n/,
  );
});

test(`a recorded outcome removes the monitor's own environment file (its secrets), not the next deploy's; an \
aborted run keeps it for the restart`, async (t) => {
  for (const outcome of ['all-clear', 'aborted'] as const) {
    const f = await createMonitorFixture(t);
    const own = getMonitorEnvFile(f.environment, DEPLOY_ID);
    const next = getMonitorEnvFile(f.environment, NEW_DEPLOY);
    await mkdir(f.environment.stateDir, { recursive: true });
    for (const file of [own, next]) await writeFile(file, 'SLACK_WEBHOOK=https://hooks.example/secret\n');
    const controller = new AbortController();
    const result = await f.run({
      signalSource: createScriptedSource(f.clock),
      signal: controller.signal,
      onPoll: (r) => outcome === 'aborted' && r.pollIndex === 1 && controller.abort(),
    });
    assert.equal(result.outcome, outcome);
    assert.equal(existsSync(own), outcome === 'aborted', `${outcome}: the monitor's own file`);
    assert.equal(existsSync(next), true, `${outcome}: another deploy's file stays`);
  }
});

test('a plain interrupt (no request, or one naming another pid) stays aborted and resumable', async (t) => {
  const f = await createMonitorFixture(t);
  await mkdir(f.environment.stateDir, { recursive: true });
  await writeFile(
    getSupersedeRequestFile(f.environment),
    JSON.stringify({ pid: process.pid + 1, byDeployId: NEW_DEPLOY, requestedAt: 'x' }),
  );
  const controller = new AbortController();
  const result = await f.run({
    signalSource: createScriptedSource(f.clock),
    signal: controller.signal,
    onPoll: (r) => r.pollIndex === 1 && controller.abort(),
  });
  assert.equal(result.outcome, 'aborted');
  assert.equal((await readMonitorState(f.environment))!.outcome, undefined);
});

test('a violated gate while current points elsewhere ends superseded and touches nothing', async (t) => {
  const f = await createMonitorFixture(t);
  await mkdir(join(f.environment.releasesDir, 'r3'), { recursive: true });
  await rm(f.environment.currentLink);
  await symlink('releases/r3', f.environment.currentLink);
  const result = await f.run({
    signalSource: createScriptedSource(f.clock, (_o, v) => ({ ...v, health: { ok: false, latencyMs: 1 } })),
  });
  assert.equal(result.outcome, 'superseded');
  assert.equal(result.exitCode, 3);
  assert.match(
    result.message,
    /superseded: current points at r3, not at r2, the release this monitor watches\. It stopped without acting\./,
  );
  assert.deepEqual(f.calls, { verify: [], rollback: [], stop: 0 });
  assert.equal(f.incidents.length, 0);
  assert.ok(!f.sent.some((n) => n.event.startsWith('rollback')), 'no rollback notification');
  const state = (await readMonitorState(f.environment))!;
  assert.equal(state.rollback, undefined);
  assert.match(state.supersedeReason!, /current points at r3/);
  const lines = (await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines.at(-1).actions, ['notify:gate-violation:health', 'superseded:current-changed']);
});

test(`--deploy names an unknown deploy: EUNKNOWNDEPLOY (exit 2); --resume without a saved window: \
ENOMONITORTORESUME (exit 2)`, async (t) => {
  const f = await createMonitorFixture(t);
  await assert.rejects(
    f.run({ signalSource: createScriptedSource(f.clock), deployId: 'production-nope' }),
    (e) => isDhashError(e, 'EUNKNOWNDEPLOY') && e.exitCode === 2,
  );
  await assert.rejects(
    f.run({ signalSource: createScriptedSource(f.clock), isResume: true }),
    (e) => isDhashError(e, 'ENOMONITORTORESUME') && e.exitCode === 2,
  );
  assert.equal(existsSync(getMonitorLockFile(f.environment)), false);
});

test(`--deploy watches that deploy even when a later one is journaled, and records its heartbeat from \
the first moment`, async (t) => {
  const f = await createMonitorFixture(t);
  await appendJournal(f.environment, {
    time: new Date(f.clock.now()).toISOString(),
    deployId: NEW_DEPLOY,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: 'r3',
  });
  const controller = new AbortController();
  const result = await f.run({
    signalSource: createScriptedSource(f.clock),
    deployId: DEPLOY_ID,
    signal: controller.signal,
    onPoll: () => controller.abort(),
  });
  assert.equal(result.deployId, DEPLOY_ID);
  const state = (await readMonitorState(f.environment))!;
  assert.equal(state.releaseId, 'r2');
  assert.equal(state.pid, process.pid);
  assert.equal(state.heartbeatAt, state.lastPollAt);
});

test('a deploy that reused an identical release watches the release its deploy:finish made current', async (t) => {
  const f = await createMonitorFixture(t);
  await appendJournal(f.environment, {
    time: new Date(f.clock.now()).toISOString(),
    deployId: DEPLOY_ID,
    kind: 'deploy',
    step: 'deploy:finish',
    status: 'succeeded',
    releaseId: 'r2-on-disk',
  });
  const controller = new AbortController();
  await f.run({
    signalSource: createScriptedSource(f.clock),
    signal: controller.signal,
    onPoll: () => controller.abort(),
  });
  assert.equal((await readMonitorState(f.environment))!.releaseId, 'r2-on-disk');
});

test("supersedeMonitor closes a dead monitor's unfinished window as superseded", async (t) => {
  const f = await createMonitorFixture(t);
  const controller = new AbortController();
  await f.run({
    signalSource: createScriptedSource(f.clock),
    signal: controller.signal,
    onPoll: (r) => r.pollIndex === 1 && controller.abort(),
  });
  // As left by a monitor killed with SIGKILL: its lock names a pid that is gone.
  await writeFile(getMonitorLockFile(f.environment), JSON.stringify({ pid: 2 ** 22 + 7, startedAt: 'x' }));
  const result = await supersedeMonitor(f.environment, {
    byDeployId: NEW_DEPLOY,
    clock: f.clock,
    logger: createSilentLogger(),
  });
  assert.deepEqual(result, { status: 'marked', deployId: DEPLOY_ID });
  const state = (await readMonitorState(f.environment))!;
  assert.equal(state.outcome, 'superseded');
  assert.equal(state.supersededBy, NEW_DEPLOY);
  assert.equal(
    JSON.parse(await readFile(join(f.root, 'monitor_logs', `${DEPLOY_ID}.summary.json`), 'utf8')).outcome,
    'superseded',
  );
  assert.deepEqual(
    await supersedeMonitor(f.environment, { byDeployId: NEW_DEPLOY, clock: f.clock, logger: createSilentLogger() }),
    { status: 'none' },
  );
});

test("supersedeMonitor leaves its own process alone (the monitor's auto-rollback)", async (t) => {
  const f = await createMonitorFixture(t);
  await mkdir(f.environment.stateDir, { recursive: true });
  await writeFile(getMonitorLockFile(f.environment), JSON.stringify({ pid: process.pid, startedAt: 'x' }));
  assert.deepEqual(
    await supersedeMonitor(f.environment, { byDeployId: NEW_DEPLOY, clock: f.clock, logger: createSilentLogger() }),
    { status: 'self', pid: process.pid },
  );
});

test('a monitor that ignores SIGTERM: EMONITORNOTSUPERSEDED (exit 3) after the deadline, naming the pid', async (t) => {
  const f = await createMonitorFixture(t);
  const stubborn = spawn(
    process.execPath,
    ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  t.after(() => void stubborn.kill('SIGKILL'));
  await new Promise((r) => stubborn.stdout!.once('data', r));
  await mkdir(f.environment.stateDir, { recursive: true });
  await writeFile(getMonitorLockFile(f.environment), JSON.stringify({ pid: stubborn.pid, startedAt: 'x' }));
  await assert.rejects(
    supersedeMonitor(f.environment, {
      byDeployId: NEW_DEPLOY,
      clock: createSystemClock(),
      logger: createSilentLogger(),
      timeoutMs: 300,
    }),
    (e) =>
      isDhashError(e, 'EMONITORNOTSUPERSEDED') &&
      e.exitCode === 3 &&
      e.message ===
        `The monitor of \`production\` (pid ${stubborn.pid}, deploy unknown) did not stop within 300 ms; ` +
          `nothing was changed.`,
  );
  assert.equal(existsSync(getSupersedeRequestFile(f.environment)), false);
});
