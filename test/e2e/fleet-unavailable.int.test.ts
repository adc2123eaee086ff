// A fleet host that drops off the network mid-rollout counts against maxUnavailable (1: the rollout completes and
// names it; 0: it stops and rolls back), and a changed host key refuses the whole rollout before anything changes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createFleetLab, readControllerJournal, waitForFleetState, type FleetLab } from './fleet-lab.js';

const cleanups: (() => Promise<void>)[] = [];
const t = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };

describe('unreachable hosts and host keys', { timeout: 900_000 }, () => {
  let lab: FleetLab;
  let base: string;
  before(async () => {
    lab = await createFleetLab(t);
    // No test here asserts on the monitor after a rollout: its window as short as the poll.
    await lab.configure({ waves: ['100%'], bake: '1s', maxUnavailable: 2, monitorWindow: '1s' });
    const traffic = lab.startTraffic(() => 'png');
    const first = await lab.deploy(lab.goodArtifact);
    await traffic.stop();
    assert.equal(first.exitCode, 0, `${first.stdout}\n${first.stderr}`);
    base = releaseIdOf(lab.goodArtifact);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  /** Deploys `artifact` and drops web-3's link once wave 1 of it bakes (web-3 is in wave 2). */
  async function deployLosingWeb3(artifact: string) {
    const releaseId = releaseIdOf(artifact);
    const traffic = lab.startTraffic(() => 'png');
    const deploying = lab.deploy(artifact);
    await waitForFleetState(
      lab,
      `wave 1 of ${releaseId} baking`,
      (s) => s.releaseId === releaseId && s.wave?.number === 1 && s.wave.phase === 'baking',
    );
    await lab.fleet.setLinkDown('web-3');
    const result = await deploying;
    await traffic.stop();
    await lab.fleet.setLinkUp('web-3');
    return result;
  }

  test('a host whose link goes down mid-rollout counts against maxUnavailable 1: completes and names it', async () => {
    await lab.configure({ waves: [1, '100%'], bake: '2s', maxUnavailable: 1, monitorWindow: '1s' });
    const next = await lab.createVariant('next1');
    const result = await deployLosingWeb3(next);
    const releaseId = releaseIdOf(next);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(
      result.stdout,
      new RegExp(`OK: rolled out ${releaseId} to 2 of 3 host\\(s\\) \\(web-1, web-2\\); web-3 unreachable`),
    );
    assert.match(result.stdout, /within maxUnavailable 1, run the rollout again once it is back/);
    assert.equal((await lab.readHost('web-1')).current, releaseId);
    assert.equal((await lab.readHost('web-2')).current, releaseId);
    assert.equal((await lab.readHost('web-3')).current, base);
    assert.deepEqual(
      (await lab.readState())?.hosts.map((h) => `${h.name}:${h.phase}`),
      ['web-1:active', 'web-2:active', 'web-3:unreachable'],
    );
  });

  test('with maxUnavailable 0 the same lost host stops the rollout and rolls back the hosts it updated', async () => {
    const before = await Promise.all(['web-1', 'web-2', 'web-3'].map(async (n) => (await lab.readHost(n)).current));
    await lab.configure({ waves: [1, '100%'], bake: '2s', maxUnavailable: 0, monitorWindow: '1s' });
    const next = await lab.createVariant('next2');
    const result = await deployLosingWeb3(next);
    assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(result.stdout, /stopped in wave 2 \(1 host\(s\) unreachable \(web-3\), more than maxUnavailable 0\)/);
    assert.match(result.stdout, /rolled back web-1, web-2 \(each verified healthy\)/);
    const after = await Promise.all(['web-1', 'web-2', 'web-3'].map(async (n) => (await lab.readHost(n)).current));
    assert.deepEqual(after, before);
  });

  test('a changed host key is refused (exit 3) naming the host, and nothing changes', async () => {
    const before = await Promise.all(['web-1', 'web-2', 'web-3'].map((n) => lab.readHost(n)));
    await lab.configure({ waves: [1, '100%'], bake: '2s', maxUnavailable: 2, monitorWindow: '1s' });
    await lab.fleet.rotateHostKey('web-2');
    const next = await lab.createVariant('next3');
    const result = await lab.deploy(next);
    assert.equal(result.exitCode, 3, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /preflight:host:web-2: host key refused: /);
    assert.match(result.stderr, /nothing was changed/);
    const after = await Promise.all(['web-1', 'web-2', 'web-3'].map((n) => lab.readHost(n)));
    assert.deepEqual(after, before);
  });
});

function releaseIdOf(artifact: string): string {
  return artifact
    .split('/')
    .pop()!
    .replace(/\.tar\.gz$/, '');
}
