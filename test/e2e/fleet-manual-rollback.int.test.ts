// `dhash rollback --env <fleet>` on three real hosts (network namespaces with sshd), PostgreSQL and Prometheus: after a
// good rollout of B over A, a dry run changes nothing, the rollback puts every host back on A (its `current` symlink
// and /health from the root namespace), and a host whose link is down is reported, not rolled back, exit 4.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCliForTest } from '../helpers/cli.js';
import { killOnExit, waitFor } from '../helpers/processes.js';
import {
  createFleetLab,
  ENV_NAME,
  HOST_NAMES,
  LAB_SECRETS,
  readControllerJournal,
  SERVICE_PORT,
  waitForFleetState,
  type FleetLab,
} from './fleet-lab.js';

const cleanups: (() => Promise<void>)[] = [];
const t = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
const B_VERSION = '9.9.9-manual-rollback-b';

describe('manual rollback of a fleet', { timeout: 900_000 }, () => {
  let lab: FleetLab;
  let releaseA: string;
  let artifactB: string;
  let releaseB: string;
  let versionA: string;
  before(async () => {
    lab = await createFleetLab(t);
    // Nothing here asserts on a bake, the monitor after a rollout or how many hosts restart at once: the bake and the
    // window as short as still judged (four polls of the bake), A onto all three hosts at once, then B (and every
    // rollback) in waves [1, "100%"] with wave 2's two hosts side by side.
    const settings = { bake: '1s', monitorWindow: '1s' };
    await lab.configure({ ...settings, waves: ['100%'], maxUnavailable: 2 });
    releaseA = releaseIdOf(lab.goodArtifact);
    // B answers /health with its own version, so the test sees which release each host's service really runs.
    artifactB = await lab.createVariant('manualb', async (dir) => {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
      versionA = pkg.version;
      await writeFile(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: B_VERSION }, null, 2) + '\n');
    });
    releaseB = releaseIdOf(artifactB);
    for (const artifact of [lab.goodArtifact, artifactB]) {
      const result = await lab.deploy(artifact);
      assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
      await lab.configure({ ...settings, waves: [1, '100%'], maxUnavailable: 1 });
    }
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  const rollback = (extra: string[]) =>
    runCliForTest(['rollback', '--env', ENV_NAME, ...extra], { cwd: lab.projectRoot, processEnv: lab.processEnv });

  test('--dry-run prints every host from B → A and changes nothing', async () => {
    const journalBefore = await readControllerJournal(lab);
    const result = await rollback(['--dry-run']);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    for (const name of HOST_NAMES) {
      assert.match(result.stdout, new RegExp(`  ${name}  ${releaseB} → ${releaseA}: roll back`));
      assert.equal((await lab.readHost(name)).current, releaseB, name);
      assert.equal(await readHealthVersion(lab, name), B_VERSION, name);
    }
    assert.match(result.stdout, /OK: dry run: nothing was changed/);
    assert.equal(await readControllerJournal(lab), journalBefore);
  });

  test('dhash rollback --env puts all three hosts back on A, each verified from the root namespace', async () => {
    const result = await rollback(['--force']);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}\n${await readControllerJournal(lab)}`);
    assert.match(
      result.stdout,
      new RegExp(`OK: rolled back web-1, web-2, web-3 to ${releaseA} \\(each verified healthy\\); incident \\S+`),
    );
    for (const name of HOST_NAMES) {
      assert.equal((await lab.readHost(name)).current, releaseA, name);
      assert.equal(await readHealthVersion(lab, name), versionA, name);
    }
    const state = await lab.readState();
    assert.equal(state?.status, 'rolled-back');
    const incident = JSON.parse(
      await readFile(join(lab.projectRoot, 'incidents', `${state!.incidentId}.json`), 'utf8'),
    );
    assert.equal(incident.rollback.strategy, 'switch-back');
    const status = await lab.status();
    for (const name of HOST_NAMES) assert.match(status.stdout, new RegExp(`${name}  current ${releaseA}, previous`));
    const seen = `${result.stdout}${result.stderr}${await readControllerJournal(lab)}`;
    for (const secret of LAB_SECRETS) assert.equal(seen.includes(secret), false, 'a secret was printed');
  });

  test('a host whose link is down is reported and not rolled back: exit 4 names it', async () => {
    const redeploy = await lab.deploy(artifactB);
    assert.equal(redeploy.exitCode, 0, `${redeploy.stdout}\n${redeploy.stderr}`);
    await lab.fleet.setLinkDown('web-3');
    try {
      const result = await rollback(['--force']);
      assert.equal(result.exitCode, 4, `${result.stdout}\n${result.stderr}`);
      assert.match(
        result.stdout,
        new RegExp(`FAILED: rolled back web-1, web-2 to ${releaseA} \\(each verified healthy\\)`),
      );
      assert.match(result.stdout, /web-3 NOT rolled back: NOT REACHED \(EHOSTUNREACHABLE: /);
      assert.match(result.stdout, /a human must act on web-3; incident \S+/);
      for (const name of ['web-1', 'web-2']) assert.equal((await lab.readHost(name)).current, releaseA, name);
      assert.equal((await lab.readHost('web-3')).current, releaseB);
    } finally {
      await lab.fleet.setLinkUp('web-3');
    }
  });

  test("a rollback supersedes the fleet's running monitor first, then puts every host back", async () => {
    // A monitor window long enough to be running when the rollback starts; the deploy is its own process (the
    // monitor's holder), as an operator's would be.
    const gatesFile = join(lab.projectRoot, 'quality-gates-config.json');
    const gates = JSON.parse(await readFile(gatesFile, 'utf8'));
    gates.defaults.monitor = { window: '300s', poll: [{ every: '1s' }] };
    await writeFile(gatesFile, JSON.stringify(gates, null, 2) + '\n');
    const before = await lab.readState();
    const child = spawn(
      process.execPath,
      [join(lab.projectRoot, 'dist', 'cli', 'main.js'), 'deploy', '--env', ENV_NAME, '--release', artifactB],
      { cwd: lab.projectRoot, env: lab.processEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    killOnExit(t, child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitForFleetState(
      lab,
      'the fleet monitor of the new rollout watching',
      (s) => s.deployId !== before?.deployId && s.monitor !== undefined && s.monitor.outcome === undefined,
    );
    const result = await rollback(['--force']);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}\n${output}`);
    for (const name of HOST_NAMES) assert.equal((await lab.readHost(name)).current, releaseA, name);
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    await waitFor('the superseded deploy to exit', async () => code !== undefined, 30_000);
    assert.equal(code, 3, output);
    assert.match(output, /monitor superseded: \S+ took over fleet/);
    const state = await lab.readState();
    assert.equal(state?.monitor?.outcome, 'superseded');
    assert.equal(state?.status, 'rolled-back');
  });
});

/** The version the host's service reports on /health, asked from the root namespace as a client would. */
async function readHealthVersion(lab: FleetLab, name: string): Promise<string> {
  const response = await fetch(`http://${lab.fleet.getHost(name).address}:${SERVICE_PORT}/health`, {
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(response.status, 200, `${name} /health`);
  return ((await response.json()) as { version: string }).version;
}

function releaseIdOf(artifact: string): string {
  return artifact
    .split('/')
    .pop()!
    .replace(/\.tar\.gz$/, '');
}
