// The test fleet itself: namespaces, sshd, per-host /srv/dhash, routing both ways, link control and a clean teardown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestFleet, type TestFleet } from './fleet-hosts.js';
import { runCommand } from './fleet-hosts-netns.js';
import { REPO_ROOT, waitFor } from './processes.js';

function sshTo(fleet: TestFleet, address: string, command: string) {
  return runCommand('ssh', ['-F', fleet.sshOptions.configFile, '-o', 'ConnectTimeout=5', address, command]);
}

/** Resolves with the first line a TCP server at `address:port` sends, or the connection error's code. */
function readGreeting(address: string, port: number, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString('utf8').split('\n')[0].trim());
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Running, not a zombie: a killed process whose parent (here pid 1) has not reaped it yet holds nothing. */
function isPidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const GREETER = (address: string, port: number, text: string) =>
  `require('net').createServer((s) => s.end('${text}\\n')).listen(${port}, '${address}')`;

describe('a fleet of three hosts', () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await createTestFleet({ hosts: ['h1', 'h2', 'h3'] });
  });
  after(() => fleet.teardown());

  test('brings up three hosts, each answering ssh with its own key on its own address', async () => {
    assert.deepEqual(
      fleet.hosts.map((h) => h.name),
      ['h1', 'h2', 'h3'],
    );
    assert.equal(new Set(fleet.hosts.map((h) => h.address)).size, 3);
    for (const host of fleet.hosts) {
      const result = await sshTo(fleet, host.address, 'id -un; hostname; ip -o -4 addr show eth0');
      assert.equal(result.exitCode, 0, result.stderr);
      const address = host.address.replaceAll('.', '\\.');
      assert.match(result.stdout, new RegExp(`^root\\n${host.name}\\n2: eth0 +inet ${address}/30 `));
      assert.equal((await fleet.exec(host.name, ['hostname'])).stdout, `${host.name}\n`);
      const served = await runCommand('ssh-keyscan', ['-t', 'ed25519', host.address]);
      const fingerprint = await runCommand('ssh-keygen', ['-lf', '-'], { stdin: served.stdout });
      assert.match(fingerprint.stdout, new RegExp(`^256 ${host.hostKeyFingerprint.replaceAll('+', '\\+')} `));
      assert.equal(host.root, '/srv/dhash');
    }
    const byAlias = await sshTo(fleet, 'h2', 'ip -o -4 addr show eth0');
    assert.ok(byAlias.stdout.includes(` ${fleet.getHost('h2').address}/30 `), byAlias.stdout);
  });

  test('each host sees only its own /srv/dhash', async () => {
    const written = await sshTo(fleet, fleet.getHost('h1').address, 'echo from-h1 > /srv/dhash/marker');
    assert.equal(written.exitCode, 0, written.stderr);
    assert.equal(readFileSync(`${fleet.getHost('h1').srvDir}/marker`, 'utf8'), 'from-h1\n');
    assert.equal(existsSync(`${fleet.getHost('h2').srvDir}/marker`), false);
    assert.equal(existsSync('/srv/dhash/marker'), false);
    const onH2 = await sshTo(fleet, fleet.getHost('h2').address, 'test -e /srv/dhash/marker');
    assert.equal(onH2.exitCode, 1);
    assert.equal((await fleet.exec('h1', ['cat', '/srv/dhash/marker'])).stdout, 'from-h1\n');
    assert.equal((await fleet.exec('h3', ['test', '-e', '/srv/dhash/marker'])).exitCode, 1);
  });

  test('the root namespace reaches a service a host started over ssh, and a host reaches the gateway', async () => {
    const h1 = fleet.getHost('h1');
    const script = GREETER(h1.address, 7070, 'hello from h1');
    const started = await sshTo(fleet, h1.address, `nohup node -e "${script}" >/dev/null 2>&1 &`);
    assert.equal(started.exitCode, 0, started.stderr);
    await waitFor('the service on h1', async () => (await readGreeting(h1.address, 7070)) === 'hello from h1', 5000);

    const h2 = fleet.getHost('h2');
    const server = createServer((s) => s.end('hello from the root namespace\n'));
    await new Promise<void>((resolve) => server.listen(0, h2.gatewayAddress, resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const probe = `require('net').connect(${port}, '${h2.gatewayAddress}').pipe(process.stdout)`;
      const reached = await fleet.exec('h2', ['node', '-e', probe]);
      assert.equal(reached.stdout, 'hello from the root namespace\n', reached.stderr);
    } finally {
      server.close();
    }
  });

  test('a link taken down makes the host unreachable, and up again restores it', async () => {
    const h3 = fleet.getHost('h3');
    assert.match(await readGreeting(h3.address, 22), /^SSH-2\.0-OpenSSH/);
    await fleet.setLinkDown('h3');
    assert.equal(await readGreeting(h3.address, 22, 1000), 'timeout');
    await fleet.setLinkUp('h3');
    assert.match(await readGreeting(h3.address, 22), /^SSH-2\.0-OpenSSH/);
    const result = await sshTo(fleet, h3.address, 'echo back');
    assert.equal(result.stdout, 'back\n', result.stderr);
  });
});

test('teardown leaves no namespace, veth, mount or process behind, and a second teardown is a no-op', async () => {
  const fleet = await createTestFleet({ hosts: ['a1', 'a2'] });
  const a1 = fleet.getHost('a1');
  const started = await sshTo(fleet, a1.address, `nohup node -e "${GREETER(a1.address, 7071, 'x')}" >/dev/null 2>&1 &`);
  assert.equal(started.exitCode, 0, started.stderr);
  await waitFor('the service on a1', async () => (await readGreeting(a1.address, 7071)) === 'x', 5000);
  // One that ignores SIGTERM, as a hung service would: teardown must escalate to SIGKILL.
  const stubborn = await sshTo(
    fleet,
    a1.address,
    `nohup sh -c "trap '' TERM; while :; do sleep 1; done" >/dev/null 2>&1 &`,
  );
  assert.equal(stubborn.exitCode, 0, stubborn.stderr);
  const pids = (await runCommand('ip', ['netns', 'pids', a1.netns])).stdout.split('\n').filter(Boolean).map(Number);
  assert.ok(pids.length >= 3, `sshd and the services run in ${a1.netns}: ${pids}`);

  await fleet.teardown();
  await fleet.teardown();

  const namespaces = (await runCommand('ip', ['netns', 'list'])).stdout;
  const links = (await runCommand('ip', ['-o', 'link'])).stdout;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const host of fleet.hosts) {
    assert.ok(!namespaces.includes(host.netns), `${host.netns} is gone`);
    assert.ok(!links.includes(`${host.vethName}@`), `${host.vethName} is gone`);
    assert.ok(!mounts.includes(host.netns) && !mounts.includes(host.srvDir), `no mount of ${host.name} is left`);
  }
  assert.deepEqual(
    pids.filter((pid) => isPidAlive(pid)),
    [],
  );
  assert.equal(existsSync(fleet.dir), false);
});

test('a fleet left by a killed test process is cleaned up when the next fleet is created', async (t) => {
  const script =
    `import('${REPO_ROOT}test/helpers/fleet-hosts.ts').then(async (m) => {` +
    ` const f = await m.createTestFleet({ hosts: ['z1'] });` +
    ` console.log(JSON.stringify({ netns: f.hosts[0].netns, pid: f.hosts[0].sshdPid, dir: f.dir }));` +
    ' setInterval(() => {}, 1000); })';
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(String(d))));
  const crashed = JSON.parse(line) as { netns: string; pid: number; dir: string };
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.ok(isPidAlive(crashed.pid), 'the orphaned sshd outlives its test process');

  const fleet = await createTestFleet({ hosts: ['b1'], t });

  assert.ok(!(await runCommand('ip', ['netns', 'list'])).stdout.includes(crashed.netns));
  await waitFor('the orphaned sshd to go', async () => !isPidAlive(crashed.pid), 5000);
  assert.equal(existsSync(crashed.dir), false);
  assert.equal(fleet.hosts.length, 1);
});

test('a user who cannot create namespaces gets one line naming what is missing', async () => {
  const script =
    `import('${REPO_ROOT}test/helpers/fleet-hosts.ts').then((m) => m.createTestFleet({ hosts: ['n1'] }))` +
    `.catch((e) => { console.log(e.message); })`;
  const result = await runCommand('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    process.execPath,
    '--import',
    'tsx',
    '-e',
    script,
  ]);
  assert.equal(result.stdout, 'the test fleet needs root for ip netns\n', result.stderr);
});

test('a test process that exits without its teardown still leaves nothing behind', async () => {
  const script =
    `import('${REPO_ROOT}test/helpers/fleet-hosts.ts').then(async (m) => {` +
    ` const f = await m.createTestFleet({ hosts: ['e1', 'e2'] });` +
    ` console.log(JSON.stringify(f.hosts.map((h) => ({ netns: h.netns, pid: h.sshdPid, veth: h.vethName }))));` +
    ` console.log(f.dir); process.exit(0); })`;
  const result = await runCommand(process.execPath, ['--import', 'tsx', '-e', script]);
  assert.equal(result.exitCode, 0, result.stderr);
  const [hostsLine, dir] = result.stdout.trim().split('\n');
  const hosts = JSON.parse(hostsLine) as { netns: string; pid: number; veth: string }[];
  assert.equal(hosts.length, 2);
  const namespaces = (await runCommand('ip', ['netns', 'list'])).stdout;
  for (const host of hosts) {
    assert.ok(!namespaces.includes(host.netns), `${host.netns} is gone`);
    await waitFor(`sshd ${host.pid} to go`, async () => !isPidAlive(host.pid), 5000);
    await waitFor(
      `${host.veth} to go`,
      async () => (await runCommand('ip', ['link', 'show', host.veth])).exitCode !== 0,
    );
  }
  assert.equal(existsSync(dir), false);
});
