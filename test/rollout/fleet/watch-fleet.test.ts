import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readFleetState } from '../../../src/rollout/fleet/fleet-state.js';
import { getSupersedeRequestFile } from '../../../src/rollout/monitor/supersede-monitor.js';
import { readJournal } from '../../../src/rollout/state/journal.js';
import { createFleetFixture, OLD_RELEASE, START_MS } from './helpers/fleet-fixture.js';

const S = 1000;
const M = 60_000;
/** Two bakes of 4 s: when the monitor's window opens. */
const WAVES_DONE_MS = START_MS + 8 * S;

test('after the last wave the monitor watches the fleet 60 minutes at monitor cadence, then all clear', async (t) => {
  const f = await createFleetFixture(t);
  const result = await f.run({ shouldWatch: true });
  assert.equal(result.exitCode, 0, result.message);
  assert.match(result.message, /; monitor all-clear: the fleet passed every gate for 1h \(39 polls\)$/);
  assert.equal(f.clock.now(), WAVES_DONE_MS + 60 * M);
  // 1 preflight poll, 8 bake polls, then 0, 30 s … 5 m (11), every 120 s to 60 m (27) and the window's end.
  assert.equal(f.signals.polls, 1 + 8 + 39);
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['start', 'success', 'monitor-start', 'monitor-complete'],
  );
  const journal = await readJournal(f.environment);
  assert.deepEqual(
    journal.filter((e) => e.kind === 'monitor').map((e) => [e.step, e.status, e.outcome ?? '-']),
    [
      ['monitor:start', 'started', '-'],
      ['monitor:finish', 'succeeded', 'all-clear'],
    ],
  );
  const state = await readFleetState(f.environment);
  assert.equal(state?.monitor?.outcome, 'all-clear');
  assert.equal(state?.monitor?.polls, 39);
  const lines = (await readFile(state!.monitor!.logFile, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 39);
  assert.equal(JSON.parse(lines[1]).elapsedMs, 30 * S);
});

test('a gate violated at T+10m rolls the whole fleet back through the fleet rollback, with one incident', async (t) => {
  const f = await createFleetFixture(t);
  f.failurePercent = () => (f.clock.now() >= WAVES_DONE_MS + 10 * M ? 12 : 0);
  const result = await f.run({ shouldWatch: true });
  assert.equal(result.exitCode, 1, result.message);
  assert.match(
    result.message,
    new RegExp(
      String.raw`rolled back by its monitor after the last wave \(fleet extractionFailureRate 12 % > 5 %\); ` +
        String.raw`rolled back web-1, web-2, web-3`,
    ),
  );
  assert.equal(result.monitor?.outcome, 'rolled-back');
  for (const h of f.hosts.values()) assert.equal(h.current, OLD_RELEASE, h.host.name);
  // The first poll from T+10m on: 30 s polls to 5m, then every 120 s (7m, 9m, 11m): caught at 11m, not at the end.
  assert.equal(f.clock.now() - WAVES_DONE_MS < 12 * M, true);
  assert.equal(result.monitor?.polls, 11 + 3);
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['start', 'success', 'monitor-start', 'rollback-success'],
  );
  const state = await readFleetState(f.environment);
  assert.equal(state?.status, 'rolled-back');
  assert.equal(state?.monitor?.outcome, 'rolled-back');
  const incident = JSON.parse(await readFile(join(f.root, 'incidents', `${state!.incidentId}.json`), 'utf8'));
  assert.match(incident.title, /rolled back by its monitor after the last wave; rolled back$/);
  assert.match(incident.trigger.description, /Waves: wave 1 \(web-1\): held; wave 2 \(web-2, web-3\): held/);
});

test('an interrupted monitor ends aborted (exit 3); one a later rollout asked to stop ends superseded', async (t) => {
  for (const isSuperseded of [false, true]) {
    const f = await createFleetFixture(t);
    const controller = new AbortController();
    const measure = f.signals.measure.bind(f.signals);
    f.signals.measure = async (query) => {
      if (f.clock.now() >= WAVES_DONE_MS + 2 * M && !controller.signal.aborted) {
        if (isSuperseded) {
          await mkdir(f.environment.stateDir, { recursive: true });
          const request = { pid: process.pid, byDeployId: 'production-next', requestedAt: new Date().toISOString() };
          await writeFile(getSupersedeRequestFile(f.environment), JSON.stringify(request));
        }
        controller.abort(new Error('received SIGTERM'));
      }
      return measure(query);
    };
    const result = await f.run({ shouldWatch: true, signal: controller.signal });
    assert.equal(result.exitCode, 3, result.message);
    assert.equal(result.monitor?.outcome, isSuperseded ? 'superseded' : 'aborted');
    assert.match(
      result.message,
      isSuperseded
        ? /; monitor superseded: production-next took over production$/
        : /; monitor aborted: interrupted after 5 poll\(s\): \S+ serves unwatched$/,
    );
    // Nothing was rolled back: the release keeps serving.
    for (const h of f.hosts.values()) assert.equal(h.current, f.releaseId);
  }
});
