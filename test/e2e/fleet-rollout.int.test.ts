// Fleet rollouts over three real hosts (network namespaces with sshd), PostgreSQL, Prometheus and real traffic: a
// good release in waves, a faulty one caught in wave 1, and one that passes wave 1 and is caught by the fleet gate in
// wave 2.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readJournal } from '../../src/rollout/state/journal.js';
import { breakJpegHashing } from '../helpers/deploy-project.js';
import {
  createFleetLab,
  HOST_NAMES,
  LAB_SECRETS,
  readControllerJournal,
  waitForFleetState,
  type FleetLab,
} from './fleet-lab.js';

const cleanups: (() => Promise<void>)[] = [];
const t = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };

describe('fleet rollouts in waves', { timeout: 900_000 }, () => {
  let lab: FleetLab;
  let good: string;
  before(async () => {
    lab = await createFleetLab(t);
    good = lab.goodArtifact;
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  test('a good release rolls across three hosts in waves [1, "100%"]', async () => {
    // The bake's length is not asserted here (the monitor's 3 s window is); wave 2's two hosts update side by side.
    await lab.configure({ waves: [1, '100%'], bake: '2s', maxUnavailable: 1 });
    const traffic = lab.startTraffic(() => 'png');
    const result = await lab.deploy(good);
    await traffic.stop();
    const releaseId = releaseIdOf(good);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(
      result.stdout,
      new RegExp(`OK: rolled out ${releaseId} to 3 of 3 host\\(s\\) \\(web-1, web-2, web-3\\)`),
    );
    for (const name of HOST_NAMES) assert.equal((await lab.readHost(name)).current, releaseId, name);
    // Wave 2 began only after wave 1's bake held: its first host step comes after that bake's success.
    const journal = await readJournal(await lab.getEnvironment());
    const firstBake = journal.findIndex((e) => e.step === 'fleet:bake' && e.status === 'succeeded' && e.wave === 1);
    const wave2Start = journal.findIndex((e) => e.wave === 2 && e.status === 'started');
    assert.ok(firstBake > 0 && wave2Start > firstBake, 'wave 2 started after the bake of wave 1 held');
    const status = await lab.status();
    assert.equal(status.exitCode, 0, status.stderr);
    for (const name of HOST_NAMES)
      assert.match(status.stdout, new RegExp(`${name}  current ${releaseId}, previous \\(none\\); service running`));
    assert.match(status.stdout, /last wave: 2 of 2 \(web-2, web-3\): held/);
    // After the last wave the fleet's monitor watched it for its window (3 s here) over Prometheus.
    assert.match(result.stdout, /; monitor all-clear: the fleet passed every gate for 3s \(4 polls\)/);
    assert.match(status.stdout, /monitor: finished: all-clear at \S+; 4 poll\(s\)/);
    // The database password and the tokens reach the hosts' service.env, never an output or the journal.
    const seen = `${result.stdout}${result.stderr}${status.stdout}${await readControllerJournal(lab)}`;
    for (const secret of LAB_SECRETS) assert.equal(seen.includes(secret), false, 'a secret was printed');
  });

  test("a faulty release fails on the first host's bake: only web-1 is rolled back, others never see it", async () => {
    const previous = releaseIdOf(good);
    await lab.configure({ waves: [1, '100%'], bake: '8s' });
    const faulty = await lab.createVariant('faulty1', (dir) => breakJpegHashing(dir));
    // JPEG traffic from the start: only a host running the faulty release fails it.
    const traffic = lab.startTraffic(() => 'jpeg');
    const result = await lab.deploy(faulty);
    await traffic.stop();
    const releaseId = releaseIdOf(faulty);
    assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(result.stdout, /FAILED: fleet rollout of \S+ stopped in wave 1 \(fleet extractionFailureRate/);
    assert.match(result.stdout, /rolled back web-1 \(each verified healthy\); web-2, web-3 never received it/);
    assert.equal((await lab.readHost('web-1')).current, previous);
    for (const name of ['web-2', 'web-3']) {
      const host = await lab.readHost(name);
      assert.equal(host.current, previous, name);
      assert.deepEqual(host.releases, [previous], `${name} never got a copy of ${releaseId}`);
    }
    const state = await lab.readState();
    assert.equal(state?.status, 'rolled-back');
    const incident = JSON.parse(
      await readFile(join(lab.projectRoot, 'incidents', `${state!.incidentId}.json`), 'utf8'),
    );
    assert.match(
      incident.trigger.description,
      /Hosts: web-1: rolled-back, serving \S+ \(before: \S+\); web-2: waiting/,
    );
  });

  test('a faulty release passing wave 1 that fails the fleet gate in wave 2 rolls back all three hosts', async () => {
    const previous = releaseIdOf(good);
    // maxUnavailable 1: wave 2's hosts update, and roll back, two at a time.
    await lab.configure({ waves: [1, '100%'], bake: '8s', maxUnavailable: 1 });
    const faulty = await lab.createVariant('faulty2', (dir) => breakJpegHashing(dir));
    const releaseId = releaseIdOf(faulty);
    // The deterministic trigger: the fault breaks only JPEG hashing, and the test sends only PNGs until the controller
    // records wave 2's bake (every host then runs the release). Wave 1 cannot see the fault; wave 2's gates must.
    let isWave2Baking = false;
    const traffic = lab.startTraffic(() => (isWave2Baking ? 'jpeg' : 'png'));
    const deploying = lab.deploy(faulty);
    await waitForFleetState(
      lab,
      `wave 2 of ${releaseId} baking`,
      (s) => s.releaseId === releaseId && s.wave?.number === 2 && s.wave.phase !== 'activating',
    );
    isWave2Baking = true;
    const result = await deploying;
    await traffic.stop();
    assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(result.stdout, /stopped in wave 2 \(fleet extractionFailureRate/);
    assert.match(result.stdout, /rolled back web-1, web-2, web-3 \(each verified healthy\)/);
    for (const name of HOST_NAMES) assert.equal((await lab.readHost(name)).current, previous, name);
    const journal = await readJournal(await lab.getEnvironment());
    const bakes = journal
      .filter((e) => e.step === 'fleet:bake' && e.status !== 'started' && e.deployId === journal.at(-1)?.deployId)
      .map((e) => `${e.wave}:${e.status}`);
    assert.deepEqual(bakes, ['1:succeeded', '2:failed']);
  });
});

function releaseIdOf(artifact: string): string {
  return artifact
    .split('/')
    .pop()!
    .replace(/\.tar\.gz$/, '');
}
