import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDhashError } from '../../../src/lib/errors.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { readFleetState } from '../../../src/rollout/fleet/fleet-state.js';
import {
  rollBackFleetManually,
  type ManualFleetRollbackOptions,
} from '../../../src/rollout/fleet/manual-rollback-fleet.js';
import { readJournal } from '../../../src/rollout/state/journal.js';
import type { NotificationInput, Notifier } from '../../../src/rollout/notify/index.js';
import { createFleetFixture, driveClock, OLD_RELEASE, type FleetFixture } from './helpers/fleet-fixture.js';
import { getTestGates } from './helpers/test-gates.js';

const HOSTS = ['web-1', 'web-2', 'web-3'];

/** A fleet that rolled the new release out to every host. */
async function createRolledOutFleet(t: { after: (fn: () => Promise<void>) => void }): Promise<FleetFixture> {
  const f = await createFleetFixture(t);
  const rollout = await f.run();
  assert.equal(rollout.exitCode, 0, rollout.message);
  f.sent.length = 0;
  f.output.length = 0;
  return f;
}

function rollBack(f: FleetFixture, over: Partial<ManualFleetRollbackOptions> = {}) {
  const notifier = {
    send: async (n: NotificationInput) => {
      f.sent.push(n);
      return { id: `n${f.sent.length}`, event: n.event, severity: 'info', deliveries: [], outboxFiles: [] };
    },
  } as unknown as Notifier;
  return driveClock(
    f.clock,
    rollBackFleetManually({
      environment: f.environment,
      isDryRun: false,
      force: true,
      clock: f.clock,
      logger: createSilentLogger(),
      notifier,
      redact: createRedactor({}),
      processEnv: {},
      onProgress: (line) => f.output.push(line),
      createHostOps: (h) => f.hosts.get(h.name)!,
      signals: f.signals,
      gates: getTestGates(),
      ...over,
    }),
  );
}

test('a manual rollback returns every host to the release it ran before the rollout, with one incident', async (t) => {
  const f = await createRolledOutFleet(t);
  const result = await rollBack(f);
  assert.equal(result.exitCode, 0, result.message);
  assert.match(
    result.message,
    new RegExp(`^rolled back web-1, web-2, web-3 to ${OLD_RELEASE} \\(each verified healthy\\); incident \\S+$`),
  );
  for (const name of HOSTS) {
    assert.equal(f.host(name).current, OLD_RELEASE, name);
    assert.ok(f.host(name).calls.includes(`rollback:${OLD_RELEASE}`), name);
  }
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['rollback-start', 'rollback-success'],
  );
  const state = await readFleetState(f.environment);
  assert.equal(state?.status, 'rolled-back');
  assert.deepEqual(
    state?.hosts.map((h) => [h.name, h.phase, h.releaseId]),
    HOSTS.map((n) => [n, 'rolled-back', OLD_RELEASE]),
  );
  assert.match(state?.outcome ?? '', /^manual rollback production-\S+: rolled back web-1, web-2, web-3/);
  const incidents = (await readdir(join(f.root, 'incidents'))).filter((n) => n.endsWith('.json'));
  assert.equal(incidents.length, 1);
  const incident = JSON.parse(await readFile(join(f.root, 'incidents', incidents[0]), 'utf8'));
  assert.equal(incident.rollback.strategy, 'switch-back');
  assert.equal(incident.severity, 'warning');
  const journal = (await readJournal(f.environment)).filter((e) => e.kind === 'rollback');
  assert.deepEqual(
    journal.filter((e) => e.status !== 'started').map((e) => `${e.step} ${e.host ?? ''}`.trim()),
    [
      'fleet:rollback-host web-1',
      'fleet:verify web-1',
      'fleet:rollback-host web-2',
      'fleet:verify web-2',
      'fleet:rollback-host web-3',
      'fleet:verify web-3',
      'fleet:rollback',
      'rollback:finish',
    ],
  );
  // Run again: every host is already back, so nothing restarts and health is verified only.
  const again = await rollBack(f);
  assert.equal(again.exitCode, 0, again.message);
  assert.match(
    again.message,
    new RegExp(`^already back: web-1, web-2, web-3 on ${OLD_RELEASE} \\(verified healthy\\)`),
  );
  for (const name of HOSTS) assert.equal(f.host(name).calls.filter((c) => c.startsWith('rollback:')).length, 1);
  // Nothing moved: no second incident, nobody paged, the record still says rolled back.
  assert.equal((await readdir(join(f.root, 'incidents'))).filter((n) => n.endsWith('.json')).length, 1);
  assert.equal(f.sent.length, 2);
  assert.equal((await readFleetState(f.environment))?.status, 'rolled-back');
});

test('--dry-run prints each host from → to and changes nothing', async (t) => {
  const f = await createRolledOutFleet(t);
  const before = await readFleetState(f.environment);
  const result = await rollBack(f, { isDryRun: true });
  assert.equal(result.exitCode, 0, result.message);
  assert.equal(result.message, 'dry run: nothing was changed');
  const plan = f.output.join('\n');
  for (const name of HOSTS) {
    assert.match(plan, new RegExp(`${name}  ${f.releaseId} → ${OLD_RELEASE}: roll back`));
    assert.equal(f.host(name).current, f.releaseId);
  }
  assert.deepEqual(await readFleetState(f.environment), before);
  assert.deepEqual(f.sent, []);
});

test('an unreachable host is reported, counts as not rolled back, and the exit code is 4 naming it', async (t) => {
  const f = await createRolledOutFleet(t);
  f.host('web-3').reachability = 'down';
  const result = await rollBack(f);
  assert.equal(result.exitCode, 4, result.message);
  assert.match(result.message, /^rolled back web-1, web-2 to \S+ \(each verified healthy\); web-3 NOT rolled back:/);
  assert.match(result.message, /NOT REACHED \(EHOSTUNREACHABLE: .*\); a human must act on web-3; incident \S+$/);
  assert.equal(f.host('web-1').current, OLD_RELEASE);
  assert.equal(f.host('web-3').current, f.releaseId);
  assert.deepEqual(
    f.sent.map((n) => n.event),
    ['rollback-start', 'rollback-failure'],
  );
  assert.equal((await readFleetState(f.environment))?.status, 'rollback-failed');
});

test('without a terminal and without --force it refuses before anything changes', async (t) => {
  const f = await createRolledOutFleet(t);
  await assert.rejects(
    () => rollBack(f, { force: false }),
    (error) => isDhashError(error, 'ENOCONFIRMATION') && error.exitCode === 3,
  );
  for (const name of HOSTS) assert.equal(f.host(name).current, f.releaseId);
});

test("a host that already ran the rollout's release returns to what it replaced on the others", async (t) => {
  const f = await createFleetFixture(t);
  // web-3 was left on the new release before the rollout (a partial rollback), so its own record says "new".
  const web3 = f.host('web-3');
  web3.releases.add(f.releaseId);
  web3.previous = OLD_RELEASE;
  web3.current = f.releaseId;
  const rollout = await f.run();
  assert.equal(rollout.exitCode, 0, rollout.message);
  assert.equal((await readFleetState(f.environment))?.hosts[2].previousReleaseId, f.releaseId);
  f.output.length = 0;
  const result = await rollBack(f);
  assert.equal(result.exitCode, 0, result.message);
  for (const name of HOSTS) assert.equal(f.host(name).current, OLD_RELEASE, name);
  const plan = f.output.join('\n');
  assert.match(plan, new RegExp(`web-1  ${f.releaseId} → ${OLD_RELEASE}: roll back  \\(what it ran before the last`));
  assert.match(plan, /web-3 {2}\S+ → \S+: roll back {2}\(what the last rollout replaced on the fleet\)/);
});
