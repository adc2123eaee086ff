import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDhashError } from '../../../src/lib/errors.js';
import { readFleetState } from '../../../src/rollout/fleet/fleet-state.js';
import { readJournal } from '../../../src/rollout/state/journal.js';
import { acquireEnvironmentLock } from '../../../src/rollout/state/lock.js';
import { createFleetFixture, OLD_RELEASE, START_MS } from './helpers/fleet-fixture.js';

const faultyOn = (releaseId: string) => (runs: Map<string, string | undefined>) =>
  // Each host takes a third of the traffic; the new release fails a third of its requests.
  ([...runs.values()].filter((r) => r === releaseId).length * 100) / 3;

test('a good release rolls across three hosts in waves [1, "100%"], each wave baked 4 s', async (t) => {
  const f = await createFleetFixture(t);
  f.concurrency.awaitPeers = 2;
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  assert.equal(result.message, `rolled out ${f.releaseId} to 3 of 3 host(s) (web-1, web-2, web-3)`);
  for (const name of ['web-1', 'web-2', 'web-3']) {
    assert.equal(f.host(name).current, f.releaseId, name);
    assert.equal(f.host(name).previous, OLD_RELEASE, name);
    assert.deepEqual(f.host(name).serviceEnv, {
      DHASH_DATABASE_URL: 'postgres://dhash:s3cret-pw@10.88.0.1:5432/dhash',
      DHASH_API_TOKENS: 'rollout:admin:rollout-token-123456,app:write:app-token-123456',
    });
  }
  // Migrated once before wave 1, after the one backup.
  assert.deepEqual(f.database.calls, ['pending', 'backup', 'migrate']);
  // Two bakes of 4 s polled every second (a quarter of the bake).
  assert.equal(f.clock.now() - START_MS, 8000);
  assert.equal(f.signals.polls, 1 + 8);
  // maxUnavailable 0: one host restarting at a time, even when a restart waits for others to start.
  assert.equal(f.concurrency.maxActive, 1);
  const journal = await readJournal(f.environment);
  const hostSteps = journal
    .filter((e) => e.status === 'succeeded' && typeof e.host === 'string')
    .map((e) => `${e.step} ${e.host} w${e.wave}`);
  assert.deepEqual(hostSteps, [
    'fleet:service-env web-1 w1',
    'fleet:stage web-1 w1',
    'fleet:activate web-1 w1',
    'fleet:service-env web-2 w2',
    'fleet:stage web-2 w2',
    'fleet:activate web-2 w2',
    'fleet:service-env web-3 w2',
    'fleet:stage web-3 w2',
    'fleet:activate web-3 w2',
  ]);
  assert.deepEqual(
    journal.filter((e) => e.step === 'fleet:bake' && e.status !== 'started').map((e) => [e.wave, e.status]),
    [
      [1, 'succeeded'],
      [2, 'succeeded'],
    ],
  );
  const state = await readFleetState(f.environment);
  assert.equal(state?.status, 'succeeded');
  assert.deepEqual(state?.wave && [state.wave.number, state.wave.phase], [2, 'held']);
  assert.deepEqual(
    state?.hosts.map((h) => [h.name, h.phase, h.releaseId, h.previousReleaseId]),
    ['web-1', 'web-2', 'web-3'].map((n) => [n, 'active', f.releaseId, OLD_RELEASE]),
  );
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['start', 'success'],
  );
  // The database URL's password never reaches the journal or the output.
  assert.doesNotMatch(JSON.stringify(journal) + f.output.join('\n'), /s3cret-pw|rollout-token-123456/);
});

test('a release failing the fleet gate in the first bake rolls back only web-1; the others never see it', async (t) => {
  const f = await createFleetFixture(t);
  f.failurePercent = faultyOn(f.releaseId);
  const result = await f.run();
  assert.equal(result.exitCode, 1, result.message);
  assert.equal(result.stoppedInWave, 1);
  assert.match(result.message, /stopped in wave 1 \(fleet extractionFailureRate 33 % > 5 %\); rolled back web-1/);
  assert.match(result.message, /web-2, web-3 never received it/);
  assert.equal(f.host('web-1').current, OLD_RELEASE);
  for (const name of ['web-2', 'web-3']) {
    assert.equal(f.host(name).current, OLD_RELEASE);
    assert.deepEqual([...f.host(name).releases], [OLD_RELEASE], `${name} has no copy of the release`);
    assert.deepEqual(f.host(name).calls, ['check', 'status'], `${name} was only checked`);
  }
  // The first poll (1 s into the bake) saw it: the rollout did not wait for the whole bake.
  assert.equal(f.clock.now() - START_MS < 4000, true);
  // Notified once for the violation, with one incident for the fleet.
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['start', 'rollback-success'],
  );
  const incidents = (await readdir(join(f.root, 'incidents'))).filter((n) => n.endsWith('.json'));
  assert.equal(incidents.length, 1);
  const incident = JSON.parse(await readFile(join(f.root, 'incidents', incidents[0]), 'utf8'));
  assert.equal(incident.id, result.incidentId);
  assert.equal(incident.trigger.gate, 'fleet extractionFailureRate');
  assert.equal(incident.trigger.threshold, 5);
  assert.match(incident.trigger.description, /Waves: wave 1 \(web-1\): STOPPED; wave 2 \(web-2, web-3\): not started/);
  assert.match(incident.trigger.description, new RegExp(`web-1: rolled-back, serving ${OLD_RELEASE}`));
  assert.equal(incident.rollback.strategy, 'switch-back');
  assert.match(incident.rollback.outcome, /rolled back web-1, each verified healthy; web-2, web-3 never received/);
  assert.equal(incident.verification.healthChecks.length, 3);
  const state = await readFleetState(f.environment);
  assert.equal(state?.status, 'rolled-back');
  assert.equal(state?.incidentId, result.incidentId);
});

test('a fault that starts in wave 2 passes wave 1 and rolls back all three hosts', async (t) => {
  const f = await createFleetFixture(t);
  // The trigger: the fault shows only once more than one host runs the release (traffic that reaches it from wave 2).
  f.failurePercent = (runs) => ([...runs.values()].filter((r) => r === f.releaseId).length >= 2 ? 20 : 0);
  const result = await f.run();
  assert.equal(result.exitCode, 1, result.message);
  assert.equal(result.stoppedInWave, 2);
  assert.match(result.message, /rolled back web-1, web-2, web-3 \(each verified healthy\)/);
  for (const name of ['web-1', 'web-2', 'web-3']) assert.equal(f.host(name).current, OLD_RELEASE, name);
  const journal = await readJournal(f.environment);
  assert.deepEqual(
    journal.filter((e) => e.step === 'fleet:bake' && e.status !== 'started').map((e) => [e.wave, e.status]),
    [
      [1, 'succeeded'],
      [2, 'failed'],
    ],
  );
  // Rolled back one at a time (maxUnavailable 0), so the fleet never went down at once.
  assert.equal(f.concurrency.maxActive, 1);
});

test('a host unreachable in its wave counts against maxUnavailable 1: the rollout completes naming it', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 1 });
  f.host('web-1').onCall = (method) => {
    if (method.startsWith('activate')) f.host('web-3').reachability = 'down';
  };
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  assert.match(result.message, /^rolled out \S+ to 2 of 3 host\(s\) \(web-1, web-2\); web-3 unreachable/);
  assert.match(result.message, /within maxUnavailable 1, run the rollout again once it is back/);
  assert.equal(f.host('web-3').current, OLD_RELEASE);
  const state = await readFleetState(f.environment);
  assert.deepEqual(
    state?.hosts.map((h) => h.phase),
    ['active', 'active', 'unreachable'],
  );
});

test('with maxUnavailable 0 the same unreachable host stops the rollout and rolls back updated hosts', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 0 });
  f.host('web-1').onCall = (method) => {
    if (method.startsWith('activate')) f.host('web-3').reachability = 'down';
  };
  const result = await f.run();
  assert.equal(result.exitCode, 1, result.message);
  assert.match(result.message, /stopped in wave 2 \(1 host\(s\) unreachable \(web-3\), more than maxUnavailable 0\)/);
  assert.match(result.message, /rolled back web-1, web-2 \(each verified healthy\)/);
  for (const name of ['web-1', 'web-2']) assert.equal(f.host(name).current, OLD_RELEASE, name);
});

test('a host whose service stops answering while ssh still reaches it is the release failing: roll back', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 1 });
  f.isHealthy = (name) => !(name === 'web-1' && f.host(name).current === f.releaseId);
  const result = await f.run();
  assert.equal(result.exitCode, 1, result.message);
  assert.match(result.message, /web-1 health 3 consecutive failures > 2 consecutive failures \(reachable over ssh/);
  assert.equal(f.host('web-1').current, OLD_RELEASE);
});

test('a host whose service dies with its link in the bake counts as unreachable, within maxUnavailable', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 1, waves: [2, '100%'] });
  let polls = 0;
  const measure = f.signals.measure.bind(f.signals);
  f.signals.measure = async (query) => {
    if (++polls === 2) f.host('web-2').reachability = 'down';
    return measure(query);
  };
  f.isHealthy = (name) => f.host(name).reachability === 'up';
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  assert.match(result.message, /to 2 of 3 host\(s\) \(web-1, web-3\); web-2 unreachable \(during the bake/);
});

test('a changed host key refuses the whole rollout (exit 3) naming the host; nothing changes', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 2 });
  f.host('web-2').reachability = 'key-changed';
  await assert.rejects(f.run(), (error: unknown) => {
    assert.ok(isDhashError(error, 'EPREFLIGHTFAILED'));
    assert.equal(error.exitCode, 3);
    assert.match(error.details, /preflight:host:web-2: host key refused: the host key of web-2 has changed/);
    return true;
  });
  assert.deepEqual(f.database.calls, ['pending']);
  for (const h of f.hosts.values()) assert.equal(h.current, OLD_RELEASE);
  assert.equal(await readFleetState(f.environment), undefined);
});

test('more hosts unreachable at preflight than maxUnavailable refuses (exit 3)', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 1 });
  f.host('web-2').reachability = 'down';
  f.host('web-3').reachability = 'down';
  await assert.rejects(f.run(), (error: unknown) => {
    assert.ok(isDhashError(error, 'EPREFLIGHTFAILED'));
    assert.equal(error.exitCode, 3);
    assert.match(error.details, /2 host\(s\) unreachable \(web-2, web-3\), more than maxUnavailable 1/);
    return true;
  });
});

test('a migration old releases cannot run against is refused (exit 3): split into expand and contract', async (t) => {
  const f = await createFleetFixture(t);
  f.database.pending = [
    { version: 3, name: 'add_notes', isBackwardCompatible: true, hasDown: true },
    { version: 4, name: 'drop_legacy_hash', isBackwardCompatible: false, hasDown: false },
  ];
  await assert.rejects(f.run(), (error: unknown) => {
    assert.ok(isDhashError(error, 'EMIGRATIONNOTBACKWARDCOMPATIBLE'));
    assert.equal(error.exitCode, 3);
    assert.equal(
      error.message,
      'A fleet rollout of `production` refuses migration 4 (drop_legacy_hash): it is not marked ' +
        'isBackwardCompatible, and hosts not yet updated keep serving on the migrated database.',
    );
    assert.match(error.details, /^Nothing was changed\. Split it into expand and contract/);
    return true;
  });
  assert.deepEqual(f.database.calls, ['pending']);
  for (const h of f.hosts.values()) assert.deepEqual(h.calls, ['check', 'status']);
});

test('a host whose own activation switched back stops the rollout, and it is verified back', async (t) => {
  const f = await createFleetFixture(t);
  f.host('web-2').activationOutcome = () => 'switch-back';
  const result = await f.run();
  assert.equal(result.exitCode, 1, result.message);
  assert.match(result.message, /web-2: health check failed: 0 of 3 OK; the host switched back to /);
  // web-3 (same wave, maxUnavailable 0) was never started after web-2 failed.
  assert.deepEqual(f.host('web-3').calls, ['check', 'status']);
  assert.equal(f.host('web-1').current, OLD_RELEASE);
  assert.equal(f.host('web-2').current, OLD_RELEASE);
});

test('a host that cannot be rolled back makes it exit 4, naming the host', async (t) => {
  const f = await createFleetFixture(t);
  f.failurePercent = faultyOn(f.releaseId);
  f.host('web-1').isRollbackBroken = true;
  const result = await f.run();
  assert.equal(result.exitCode, 4, result.message);
  assert.match(result.message, /web-1 could NOT be rolled back: rolling back to \S+ FAILED \(the previous release/);
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['start', 'rollback-failure'],
  );
  assert.equal((await readFleetState(f.environment))?.status, 'rollback-failed');
});

test('a first deploy of the fleet is never stopped by the guard: exit 4, the release left serving', async (t) => {
  const f = await createFleetFixture(t, { isFirstDeploy: true });
  f.failurePercent = faultyOn(f.releaseId);
  const result = await f.run();
  assert.equal(result.exitCode, 4, result.message);
  assert.match(result.message, /web-1 could NOT be rolled back: first deploy: nothing to roll back to on this host/);
  assert.equal(f.host('web-1').current, f.releaseId);
});

test('maxUnavailable 1 lets two hosts of a wave restart at once, never three', async (t) => {
  const f = await createFleetFixture(t, { hostCount: 5, waves: [1, '100%'], maxUnavailable: 1 });
  f.concurrency.awaitPeers = 3;
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  assert.equal(f.concurrency.maxActive, 2);
});

test('the lock held by another rollout refuses (exit 3) saying how to release it', async (t) => {
  const f = await createFleetFixture(t);
  const lock = await acquireEnvironmentLock(f.environment, { purpose: 'another rollout', clock: f.clock });
  t.after(() => lock.release());
  await assert.rejects(f.run(), (error: unknown) => {
    assert.ok(isDhashError(error, 'EPREFLIGHTFAILED'));
    assert.equal(error.exitCode, 3);
    assert.match(error.details, /preflight:lock: held: another rollout by pid \d+ .*remove .*deploy\.lock/);
    return true;
  });
});

test('--dry-run prints hosts, waves, bake, maxUnavailable, migrations and strategy; changes nothing', async (t) => {
  const f = await createFleetFixture(t, { maxUnavailable: 1 });
  const result = await f.run({ isDryRun: true });
  assert.equal(result.exitCode, 0);
  assert.equal(result.message, 'dry run: nothing was changed');
  const text = f.output.join('\n');
  assert.match(text, new RegExp(`release ${f.releaseId} to 3 host\\(s\\) of production in 2 wave\\(s\\); bake 4s`));
  assert.match(text, /maxUnavailable 1 \(at most 2 host\(s\) restarting at once\)/);
  assert.match(text, new RegExp(`web-1 +10\\.88\\.0\\.2:22 /srv/dhash \\(process\\); current ${OLD_RELEASE}`));
  assert.match(text, /wave 1 +\(1 → 1\/3 hosts\): web-1; then bake 4s/);
  assert.match(text, /wave 2 +\("100%" → 3\/3 hosts\): web-2, web-3; then bake 4s/);
  assert.match(text, /fleet:migrate +apply 1 migration\(s\) once, before wave 1: 3 add_notes \(backward compatible\)/);
  assert.match(text, /Rollback strategy: switch-back \(every migration of the rollout is backward compatible \(3\)/);
  assert.deepEqual(f.database.calls, ['pending']);
  for (const h of f.hosts.values()) assert.deepEqual(h.calls, ['check', 'status']);
  assert.equal(await readFleetState(f.environment), undefined);
});

test('a first fleet rollout applies migrations not marked backward compatible: no old release serves', async (t) => {
  const f = await createFleetFixture(t, { isFirstDeploy: true });
  f.database.pending = [{ version: 1, name: 'initial', isBackwardCompatible: false, hasDown: false }];
  const result = await f.run();
  assert.equal(result.exitCode, 0, result.message);
  assert.deepEqual(f.database.calls, ['pending', 'backup', 'migrate']);
  assert.match(
    f.output.join('\n'),
    /preflight:migrations +1 pending \(schema 2 → 3\), applied once before wave 1; nothing serves yet/,
  );
});
