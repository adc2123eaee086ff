// The ssh client against real sshd hosts in network namespaces: commands, stdin, atomic copies, refusals, dead links.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createSystemClock } from '../../../../src/lib/clock.js';
import { isDhashError, type DhashError } from '../../../../src/lib/errors.js';
import { createJsonLogger } from '../../../../src/lib/logger.js';
import { createRedactor } from '../../../../src/lib/redact.js';
import type { FleetHostConfig } from '../../../../src/rollout/config/environments-schema.js';
import { createSshClient, type SshSettings } from '../../../../src/rollout/target/ssh/ssh-client.js';
import { createTestFleet, type TestFleet } from '../../../helpers/fleet-hosts.js';
import { generateKeyPair } from '../../../helpers/fleet-hosts-sshd.js';
import { waitFor } from '../../../helpers/processes.js';
import { createTempDir } from '../../../helpers/temp-dir.js';

function createCapturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createJsonLogger({
    clock: createSystemClock(),
    redact: createRedactor({}),
    level: 'debug',
    streams: [stream],
  });
  return { logger, lines };
}

/** Runs `fn` and returns the coded error it rejects with (fails the test when it resolves). */
async function catchDhashError(fn: () => Promise<unknown>): Promise<DhashError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(isDhashError(error), `expected a DhashError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to throw');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Whether a process running exactly `argv` descends from `ancestor` (a host's sshd: its session's command runs). */
function isRunningUnder(ancestor: number, argv: string[]): boolean {
  const cmdline = argv.map((a) => `${a}\0`).join('');
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') !== cmdline) continue;
      for (let pid = Number(entry); pid > 1;) {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (pid === ancestor) return true;
      }
    } catch {
      // The process ended while being read.
    }
  }
  return false;
}

describe('the ssh client on a real fleet', () => {
  let fleet: TestFleet;
  let settings: SshSettings;
  const hostConfig = (name: string): FleetHostConfig => {
    const found = fleet.hostConfigs.find((h) => h.name === name);
    assert.ok(found, name);
    return found;
  };
  const clientFor = (name: string, overrides: Partial<SshSettings> = {}, logger = createCapturingLogger().logger) =>
    createSshClient(hostConfig(name), { ...settings, ...overrides }, { logger });

  before(async () => {
    fleet = await createTestFleet({ hosts: ['s1', 's2', 's3'] });
    settings = {
      configFile: fleet.sshOptions.configFile,
      identityFile: fleet.sshOptions.identityFile,
      knownHostsFile: fleet.sshOptions.knownHostsFile,
      connectTimeoutSeconds: 2,
    };
  });
  after(() => fleet.teardown());

  test('run returns the remote stdout and exit code, and hands every argument over unchanged', async () => {
    const tricky = [`it's "quoted"; $(touch /tmp/pwned) *`, 'two\nlines', '', '--flag'];
    const result = await clientFor('s1').run([
      'sh',
      '-c',
      'printf "[%s]\\n" "$@"; echo oops >&2; exit 3',
      'sh',
      ...tricky,
    ]);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, tricky.map((a) => `[${a}]\n`).join(''));
    assert.equal(result.stderr, 'oops\n');
    assert.equal(existsSync('/tmp/pwned'), false);
  });

  test('an exit code of 255 from the remote command is returned, not taken for an ssh failure', async () => {
    assert.equal((await clientFor('s1').run(['sh', '-c', 'exit 255'])).exitCode, 255);
  });

  test('stdin reaches the remote command and never appears in the log', async () => {
    const { logger, lines } = createCapturingLogger();
    const client = createSshClient(hostConfig('s2'), settings, { logger });
    const secret = 'DHASH_DATABASE_URL=postgres://dhash:hunter2hunter2@db/dhash\n';
    const result = await client.run(['sh', '-c', 'cat > /srv/dhash/env && wc -c < /srv/dhash/env'], { stdin: secret });
    assert.equal(result.stdout.trim(), String(secret.length));
    assert.equal(readFileSync(join(fleet.getHost('s2').srvDir, 'env'), 'utf8'), secret);
    assert.ok(lines.length > 0, 'the command was logged');
    assert.ok(!lines.join('').includes('hunter2'), lines.join(''));
  });

  test('runChecked throws ESSHCOMMANDFAILED naming the host and the command', async () => {
    const error = await catchDhashError(() => clientFor('s1').runChecked(['ls', '/srv/dhash/missing dir']));
    assert.equal(error.code, 'ESSHCOMMANDFAILED');
    assert.equal(error.message, "`ls '/srv/dhash/missing dir'` failed on s1 with exit code 2.");
    assert.match(error.details, /No such file or directory/);
    assert.equal(error.exitCode, 1);
  });

  test('copyFile copies a multi-MB file byte for byte; readers only ever see the old or the new file', async (t) => {
    const dir = await createTempDir(t, 'dhash-ssh-copy-');
    const data = randomBytes(6 * 1024 * 1024);
    const local = join(dir, 'release.tar');
    await writeFile(local, data);
    const srvDir = fleet.getHost('s3').srvDir;
    const old = Buffer.from('the previous release\n');
    await writeFile(join(srvDir, 'release.tar'), old);
    const seen = new Set<string>();
    let isCopying = true;
    const watcher = (async () => {
      while (isCopying) {
        seen.add(sha256(readFileSync(join(srvDir, 'release.tar'))));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const copied = await clientFor('s3').copyFile(local, '/srv/dhash/release.tar', { mode: 0o640 });
    isCopying = false;
    await watcher;
    assert.deepEqual(copied, { bytes: data.length, sha256: sha256(data) });
    assert.ok(readFileSync(join(srvDir, 'release.tar')).equals(data));
    assert.deepEqual(
      [...seen].filter((s) => s !== sha256(old) && s !== sha256(data)),
      [],
    );
    assert.deepEqual(readdirSync(srvDir).sort(), ['release.tar']);
    const mode = await fleet.exec('s3', ['stat', '-c', '%a', '/srv/dhash/release.tar']);
    assert.equal(mode.stdout, '640\n');
  });

  test('a copy that fails half-way (disk full) leaves the previous file and no partial one', async (t) => {
    const dir = await createTempDir(t, 'dhash-ssh-copy-');
    const local = join(dir, 'big.bin');
    await writeFile(local, randomBytes(3 * 1024 * 1024));
    const mounted = await fleet.exec('s3', [
      'sh',
      '-c',
      'mkdir -p /srv/dhash/small && mount -t tmpfs -o size=1m tmpfs /srv/dhash/small && ' +
        'echo old > /srv/dhash/small/big.bin',
    ]);
    assert.equal(mounted.exitCode, 0, mounted.stderr);
    const error = await catchDhashError(() => clientFor('s3').copyFile(local, '/srv/dhash/small/big.bin'));
    assert.equal(error.code, 'ESSHCOPYFAILED');
    assert.match(
      error.message,
      /^Copying .*big\.bin to s3:\/srv\/dhash\/small\/big\.bin failed: .*No space left on device\.$/,
    );
    const left = await fleet.exec('s3', ['sh', '-c', 'ls -A /srv/dhash/small; cat /srv/dhash/small/big.bin']);
    assert.equal(left.stdout, 'big.bin\nold\n');
  });

  test('a changed host key is refused with EHOSTKEYCHANGED naming the host and the known_hosts file', async () => {
    const client = clientFor('s2');
    assert.equal((await client.run(['true'])).exitCode, 0);
    await fleet.rotateHostKey('s2');
    const error = await catchDhashError(() => client.run(['touch', '/srv/dhash/should-not-exist']));
    const s2 = fleet.getHost('s2');
    assert.equal(error.code, 'EHOSTKEYCHANGED');
    assert.equal(error.exitCode, 3);
    assert.equal(
      error.message,
      `The host key of s2 (${s2.address}:22) has changed, so the rollout refuses to connect to it.`,
    );
    assert.ok(error.details.includes(`The host offered ${s2.hostKeyFingerprint}`), error.details);
    assert.ok(error.details.includes(`${fleet.sshOptions.knownHostsFile}:2`), error.details);
    assert.ok(error.details.includes('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'), error.details);
    assert.equal(existsSync(join(s2.srvDir, 'should-not-exist')), false);
  });

  test('a host missing from known_hosts is refused with EHOSTKEYUNKNOWN, never accepted on first use', async (t) => {
    const empty = join(await createTempDir(t, 'dhash-ssh-kh-'), 'known_hosts');
    await writeFile(empty, '');
    const error = await catchDhashError(() => clientFor('s1', { knownHostsFile: empty }).run(['true']));
    const s1 = fleet.getHost('s1');
    assert.equal(error.code, 'EHOSTKEYUNKNOWN');
    assert.equal(error.exitCode, 3);
    assert.equal(
      error.message,
      `The host key of s1 (${s1.address}:22) is unknown, so the rollout refuses to connect to it.`,
    );
    assert.ok(error.details.startsWith(`${empty} has no key for ${s1.address}`), error.details);
    assert.ok(error.details.includes(`ssh-keyscan -p 22 ${s1.address} | ssh-keygen -lf -`), error.details);
    assert.equal(readFileSync(empty, 'utf8'), '');
  });

  test('a key the host does not authorize fails with ESSHAUTHFAILED', async (t) => {
    const stranger = join(await createTempDir(t, 'dhash-ssh-key-'), 'stranger');
    await generateKeyPair(stranger, 'stranger');
    const host = { ...hostConfig('s1'), user: 'root' };
    const client = createSshClient(
      host,
      { knownHostsFile: settings.knownHostsFile, identityFile: stranger, connectTimeoutSeconds: 2 },
      { logger: createCapturingLogger().logger, processEnv: { PATH: process.env.PATH, HOME: '/nonexistent' } },
    );
    const error = await catchDhashError(() => client.run(['true']));
    assert.equal(error.code, 'ESSHAUTHFAILED');
    assert.equal(
      error.message,
      `ssh could not log in to s1 (${host.address}:22) as root: root@${host.address}: Permission denied (publickey).`,
    );
    assert.ok(error.details.includes(stranger), error.details);
  });

  test('a port nobody listens on is EHOSTUNREACHABLE: connection refused', async () => {
    const host = { ...hostConfig('s1'), port: 2222 };
    const client = createSshClient(host, settings, { logger: createCapturingLogger().logger });
    const error = await catchDhashError(() => client.run(['true']));
    assert.equal(error.code, 'EHOSTUNREACHABLE');
    assert.equal(
      error.message,
      `The host s1 cannot be reached at ${host.address}:2222: ` +
        `connect to host ${host.address} port 2222: Connection refused.`,
    );
  });

  test('a host whose link is down is EHOSTUNREACHABLE within the connect timeout, and check says so', async () => {
    const client = clientFor('s1');
    assert.equal((await client.check()).isOk, true);
    await fleet.setLinkDown('s1');
    try {
      const startedAt = Date.now();
      const error = await catchDhashError(() => client.run(['true']));
      const elapsedMs = Date.now() - startedAt;
      assert.equal(error.code, 'EHOSTUNREACHABLE');
      assert.match(error.message, new RegExp(`^The host s1 cannot be reached at ${fleet.getHost('s1').address}:22: `));
      assert.ok(elapsedMs >= 1900 && elapsedMs < 4000, `gave up after ${elapsedMs} ms with a 2 s connect timeout`);
      const checked = await client.check();
      assert.equal(checked.isOk, false);
      assert.equal(checked.error?.code, 'EHOSTUNREACHABLE');
    } finally {
      await fleet.setLinkUp('s1');
    }
  });

  test('a link that dies under a running command is ESSHCONNECTIONLOST after unanswered keep-alives', async () => {
    const client = clientFor('s1', { connectTimeoutSeconds: 1 });
    const running = client.run(['sh', '-c', 'echo started; sleep 30']);
    // The link dies under the running command: once its `sleep 30` runs in s1's ssh session.
    const sshdPid = fleet.getHost('s1').sshdPid;
    await waitFor('the command to run on s1', async () => isRunningUnder(sshdPid, ['sleep', '30']), 10_000, 20);
    await fleet.setLinkDown('s1');
    try {
      const error = await catchDhashError(() => running);
      assert.equal(error.code, 'ESSHCONNECTIONLOST');
      assert.match(
        error.message,
        /was lost while running `sh -c 'echo started; sleep 30'`: Timeout, server .* not responding\.$/,
      );
      assert.match(error.details, /after 3 s \(ServerAliveInterval × ServerAliveCountMax\)/);
    } finally {
      await fleet.setLinkUp('s1');
    }
  });

  test('a command that outlives timeoutMs is stopped with ESSHCOMMANDTIMEOUT', async () => {
    const error = await catchDhashError(() => clientFor('s3').run(['sleep', '20'], { timeoutMs: 500 }));
    assert.equal(error.code, 'ESSHCOMMANDTIMEOUT');
    assert.equal(error.message, '`sleep 20` on s3 did not finish within 500 ms, so ssh was stopped.');
  });

  test('a missing ssh binary is ESSHNOTINSTALLED', async () => {
    const client = createSshClient(hostConfig('s1'), settings, {
      logger: createCapturingLogger().logger,
      sshBinary: '/nonexistent/ssh',
    });
    const error = await catchDhashError(() => client.run(['true']));
    assert.equal(error.code, 'ESSHNOTINSTALLED');
    assert.equal(error.exitCode, 2);
  });
});

test('a known_hosts file that does not exist is EHOSTKEYUNKNOWN too, and a path with a space works', async (t) => {
  const fleet = await createTestFleet({ hosts: ['k1'], t });
  const dir = join(await createTempDir(t, 'dhash-ssh-kh-'), 'fleet keys');
  const host = fleet.hostConfigs[0];
  const logger = createCapturingLogger().logger;
  const base = { identityFile: fleet.sshOptions.identityFile, connectTimeoutSeconds: 2 };
  const missing = createSshClient(host, { ...base, knownHostsFile: join(dir, 'none') }, { logger });
  assert.equal((await catchDhashError(() => missing.run(['true']))).code, 'EHOSTKEYUNKNOWN');
  await mkdir(dir);
  await copyFile(fleet.sshOptions.knownHostsFile, join(dir, 'known_hosts'));
  const spaced = createSshClient(host, { ...base, knownHostsFile: join(dir, 'known_hosts') }, { logger });
  assert.equal((await spaced.run(['echo', 'ok'])).stdout, 'ok\n');
});
