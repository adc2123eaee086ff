// FleetHostOps over real ssh to network-namespace hosts: a real built artifact staged, activated and rolled back on a
// host that has no dhash but what the artifact brings; its service answered from the root namespace.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createSystemClock } from '../../../../src/lib/clock.js';
import { isDhashError, type DhashError } from '../../../../src/lib/errors.js';
import { createJsonLogger, createSilentLogger } from '../../../../src/lib/logger.js';
import { createRedactor } from '../../../../src/lib/redact.js';
import {
  environmentSchema,
  type FleetHostConfig,
  type SshTargetConfig,
} from '../../../../src/rollout/config/environments-schema.js';
import { resolveEnvironmentConfig, type ResolvedEnvironment } from '../../../../src/rollout/config/environments.js';
import { buildRelease, computeFileSha256 } from '../../../../src/rollout/release/build-release.js';
import { createFleetHostOps, type StageArtifact } from '../../../../src/rollout/target/ssh/host-ops.js';
import { createHostCli } from '../../../../src/rollout/target/ssh/host-ops-cli.js';
import { buildSshArgs } from '../../../../src/rollout/target/ssh/ssh-args.js';
import { createSshClient } from '../../../../src/rollout/target/ssh/ssh-client.js';
import { createReleaseVariant } from '../../../helpers/deploy-project.js';
import { createFleetTempDir, createTestFleet, type TestFleet } from '../../../helpers/fleet-hosts.js';
import { REPO_ROOT, waitFor } from '../../../helpers/processes.js';

const SERVICE_PORT = 18787;
const TOKEN = 'fleet-host-ops-token-0123456789';

function createCapturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createJsonLogger({ clock: createSystemClock(), redact: createRedactor({}), streams: [stream] });
  return { logger, lines };
}

async function catchDhashError(fn: () => Promise<unknown>): Promise<DhashError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(isDhashError(error), `expected a DhashError, got ${String((error as Error)?.stack ?? error)}`);
    return error;
  }
  assert.fail('expected the call to throw');
}

/** `<dir>.tar.gz` and its .sha256 the way `dhash release build --artifact` writes them (gzip's fastest level). */
async function packRelease(dir: string, outDir: string): Promise<StageArtifact> {
  const path = join(outDir, `${basename(dir)}.tar.gz`);
  execFileSync('tar', ['-I', 'gzip -1', '-cf', path, '-C', join(dir, '..'), basename(dir)]);
  const sha256 = await computeFileSha256(path);
  await writeFile(`${path}.sha256`, `${sha256}  ${basename(path)}\n`);
  return { path, sha256, releaseId: basename(dir) };
}

describe('fleet host operations over ssh', () => {
  let fleet: TestFleet;
  let workDir: string;
  let first: StageArtifact;
  let second: StageArtifact;
  const environmentFor = (nodePath = 'node'): ResolvedEnvironment => {
    const config = environmentSchema.parse({
      root: '.dhash/fleet',
      service: { host: '0.0.0.0', port: SERVICE_PORT },
      target: {
        type: 'ssh',
        hosts: fleet.hostConfigs,
        nodePath,
        ssh: {
          configFile: fleet.sshOptions.configFile,
          identityFile: fleet.sshOptions.identityFile,
          knownHostsFile: fleet.sshOptions.knownHostsFile,
          connectTimeoutSeconds: 3,
        },
      },
      deploy: { minFreeDiskMb: 10, healthyChecksRequired: 3, healthCheckIntervalMs: 200, healthTimeoutMs: 30_000 },
    });
    return resolveEnvironmentConfig(workDir, 'fleet', config, {});
  };
  const hostConfig = (name: string): FleetHostConfig => fleet.hostConfigs.find((h) => h.name === name)!;
  const opsFor = (
    name: string,
    options: { nodePath?: string; logger?: ReturnType<typeof createCapturingLogger> } = {},
  ) =>
    createFleetHostOps(environmentFor(options.nodePath), hostConfig(name), {
      logger: (options.logger ?? createCapturingLogger()).logger,
      clock: createSystemClock(),
      processEnv: process.env,
    });
  const serviceUrl = (name: string) => `http://${fleet.getHost(name).address}:${SERVICE_PORT}`;

  before(async () => {
    // Beside the fleet (a tmpfs where there is one): the build and the variant copy ~90 MB of files.
    workDir = await createFleetTempDir('dhash-host-ops-');
    const [made, built] = await Promise.all([
      createTestFleet({ hosts: ['h1', 'h2'] }),
      buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock(), createArtifact: true }),
    ]);
    fleet = made;
    first = { path: built.artifact!, sha256: built.sha256, releaseId: built.releaseId };
    const variant = await createReleaseVariant(built.dir, workDir, 'second', (dir) =>
      writeFile(join(dir, 'dist', 'VARIANT.txt'), 'second\n'),
    );
    second = await packRelease(variant, workDir);
    // The store is the controller's to migrate before wave 1 (PostgreSQL on a real fleet); here each host's SQLite.
    for (const host of fleet.hosts)
      execFileSync(process.execPath, [
        join(REPO_ROOT, 'dist/cli/main.js'),
        'migrate',
        '--db',
        join(host.srvDir, 'shared', 'dhash.sqlite'),
      ]);
  });
  after(async () => {
    await fleet?.teardown();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('check: ssh with a known key, node of the release major, a writable root and free disk', async () => {
    const reachability = await opsFor('h2').check();
    assert.equal(reachability.ok, true, JSON.stringify(reachability));
    assert.deepEqual(
      reachability.checks.map((c) => [c.name, c.ok]),
      [
        ['host:ssh', true],
        ['host:node', true],
        ['host:root', true],
        ['host:disk', true],
      ],
    );
    assert.equal(reachability.nodeVersion, process.versions.node);
    assert.ok((reachability.freeDiskMb ?? 0) > 10);
    const noNode = await opsFor('h2', { nodePath: '/opt/nowhere/node' }).check();
    assert.equal(noNode.ok, false);
    assert.equal(noNode.code, 'EHOSTNODEMISSING');
    assert.match(noNode.checks[1].detail, /^`\/opt\/nowhere\/node` does not run: /);
  });

  test('status of a host with nothing staged: no releases, nothing running', async () => {
    const status = await opsFor('h2').status();
    assert.equal(status.host, 'h2');
    assert.deepEqual(status.releaseIds, []);
    assert.equal(status.currentReleaseId, undefined);
    assert.equal(status.service.isRunning, false);
  });

  test('writeServiceEnv writes shared/service.env 0600 over stdin and never logs a value', async () => {
    const capture = createCapturingLogger();
    await opsFor('h1', { logger: capture }).writeServiceEnv({ DHASH_API_TOKENS: `ops:admin:${TOKEN}` });
    const file = join(fleet.getHost('h1').srvDir, 'shared', 'service.env');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(await readFile(file, 'utf8'), new RegExp(`^DHASH_API_TOKENS=ops:admin:${TOKEN}$`, 'm'));
    assert.ok(capture.lines.join('').includes('DHASH_API_TOKENS'), 'the variable names are logged');
    assert.ok(!capture.lines.join('').includes(TOKEN), capture.lines.join(''));
    const bad = await catchDhashError(() => opsFor('h1').writeServiceEnv({ 'not a name': 'x' }));
    assert.equal(bad.code, 'ESERVICEENVINVALID');
  });

  test('stage, activate, status and rollback of real releases; the service answers at the host address', async () => {
    const ops = opsFor('h1');
    const srv = fleet.getHost('h1').srvDir;
    await ops.writeServiceEnv({ DHASH_API_TOKENS: `ops:admin:${TOKEN}` });
    await ops.stage(first);
    assert.equal(existsSync(join(srv, 'releases', first.releaseId, 'dist', 'cli', 'main.js')), true);
    assert.deepEqual(readdirSync(join(srv, 'incoming')), [], 'the artifact is removed once unpacked');
    assert.deepEqual(
      readdirSync(join(srv, 'releases')).filter((n) => n.startsWith('.')),
      [],
      'no temp folder is left',
    );
    const capture = createCapturingLogger();
    await opsFor('h1', { logger: capture }).stage(first);
    assert.match(capture.lines.join(''), /is already staged on h1 and verifies/);

    const activated = await ops.activate(first.releaseId);
    assert.equal(activated.exitCode, 0, activated.message);
    assert.deepEqual([activated.host, activated.isActivated, activated.releaseId], ['h1', true, first.releaseId]);
    const health = await fetch(`${serviceUrl('h1')}/health`);
    assert.equal(health.status, 200, 'answered from the root namespace');
    const anonymous = await fetch(`${serviceUrl('h1')}/v1/library`, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401, 'service.env reached the service: it demands a token');

    await ops.stage(second);
    const next = await ops.activate(second.releaseId);
    assert.equal(next.exitCode, 0, next.message);
    assert.equal(next.previousReleaseId, first.releaseId);
    const status = await ops.status();
    assert.equal(status.currentReleaseId, second.releaseId);
    assert.equal(status.previousReleaseId, first.releaseId);
    assert.deepEqual(status.releaseIds, [first.releaseId, second.releaseId].sort());
    assert.equal(status.service.isRunning, true);
    assert.equal(status.service.releaseId, second.releaseId);
    assert.equal(status.health?.ok, true);
    assert.equal(status.journal.at(-1)?.step, 'deploy:finish');

    const rolledBack = await ops.rollback();
    assert.equal(rolledBack.exitCode, 0, rolledBack.message);
    assert.deepEqual([rolledBack.action, rolledBack.releaseId], ['rollback', first.releaseId]);
    assert.equal((await ops.status()).currentReleaseId, first.releaseId);
    assert.equal((await fetch(`${serviceUrl('h1')}/health`)).status, 200);
  });

  test('ssh dropping mid-activation does not stop the host: it finishes, and status tells the outcome', async () => {
    const ops = opsFor('h1');
    await ops.stage(second);
    assert.notEqual((await ops.status()).currentReleaseId, second.releaseId);
    // The same command line activate() runs, through a local ssh this test can kill.
    const environment = environmentFor();
    const target = environment.config.target as SshTargetConfig;
    const cli = createHostCli(createSshClient(hostConfig('h1'), target.ssh, { logger: createSilentLogger() }), {
      hostName: 'h1',
      root: '/srv/dhash',
      nodePath: 'node',
      envName: 'fleet',
    });
    const argv = cli.getArgv(second.releaseId, 'activate', [
      ...['--release', second.releaseId, '--driver', 'process', '--bind', fleet.getHost('h1').address],
      ...['--port', String(SERVICE_PORT), '--health-interval-ms', '200'],
    ]);
    const journalFile = join(fleet.getHost('h1').srvDir, 'state', 'deploy-journal.jsonl');
    const readSteps = async () => (await readFile(journalFile, 'utf8')).split('\n').filter(Boolean);
    const startAt = (await readSteps()).length;
    const hasNewStep = async (step: string) =>
      (await readSteps()).slice(startAt).some((line) => line.includes(`"step":"${step}"`));
    const ssh = spawn('ssh', buildSshArgs(hostConfig('h1'), target.ssh, argv), { stdio: 'ignore' });
    await waitFor('the activation to reach its restart', () => hasNewStep('deploy:restart'), 20_000, 10);
    ssh.kill('SIGKILL');
    await waitFor('the host to finish the activation on its own', () => hasNewStep('deploy:finish'), 60_000);
    const status = await ops.status();
    assert.equal(status.currentReleaseId, second.releaseId);
    assert.equal(status.journal.at(-1)?.step, 'deploy:finish');
    assert.equal(status.journal.at(-1)?.status, 'succeeded');
    assert.equal(status.health?.ok, true);
  });

  test("the host's refusal comes back with its code, exit code and the host named: a held lock", async () => {
    const ops = opsFor('h1');
    await ops.stage(second);
    const lockFile = join(fleet.getHost('h1').srvDir, 'state', 'deploy.lock');
    const holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), purpose: 'deploy of y' };
    await writeFile(lockFile, JSON.stringify(holder));
    try {
      const error = await catchDhashError(() => ops.activate(second.releaseId));
      assert.equal(error.code, 'ELOCKED');
      assert.equal(error.exitCode, 3);
      assert.match(error.message, /^On host h1: Another deploy or rollback of `fleet` is in progress/);
    } finally {
      await rm(lockFile, { force: true });
    }
  });

  test('an answer that is not JSON is EHOSTBADANSWER naming the host: exit 4 after activate', async () => {
    const error = await catchDhashError(() => opsFor('h1', { nodePath: '/bin/echo' }).activate(first.releaseId));
    assert.equal(error.code, 'EHOSTBADANSWER');
    assert.equal(error.exitCode, 4);
    assert.match(error.message, /^Host h1 gave no usable answer to `dhash host activate`: its stdout is not JSON/);
  });

  test('a wrong artifact is refused before anything reaches releases/', async () => {
    const error = await catchDhashError(() => opsFor('h2').stage({ ...second, sha256: '0'.repeat(64) }));
    assert.equal(error.code, 'ECHECKSUMMISMATCH');
    assert.equal(existsSync(join(fleet.getHost('h2').srvDir, 'releases', second.releaseId)), false);
  });

  test('a changed host key: check reports EHOSTKEYCHANGED, stage refuses with it', async () => {
    await fleet.rotateHostKey('h2');
    const reachability = await opsFor('h2').check();
    assert.equal(reachability.ok, false);
    assert.equal(reachability.code, 'EHOSTKEYCHANGED');
    const error = await catchDhashError(() => opsFor('h2').stage(first));
    assert.equal(error.code, 'EHOSTKEYCHANGED');
  });
});
