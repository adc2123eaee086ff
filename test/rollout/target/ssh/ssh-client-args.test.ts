// The pure parts of the ssh client: quoting, the ssh command line, and reading ssh's failures.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { FleetHostConfig } from '../../../../src/rollout/config/environments-schema.js';
import { buildSshArgs } from '../../../../src/rollout/target/ssh/ssh-args.js';
import { classifySshFailure } from '../../../../src/rollout/target/ssh/ssh-errors.js';
import { quoteShellArgument, quoteShellCommand } from '../../../../src/rollout/target/ssh/shell-quote.js';

const host: FleetHostConfig = {
  name: 'web-1',
  address: '10.0.0.5',
  port: 22,
  root: '/srv/dhash',
  driver: 'process',
};
const settings = { connectTimeoutSeconds: 10 };

test('quoting leaves plain words alone and single-quotes everything else', () => {
  assert.equal(quoteShellArgument('/srv/dhash/releases/r-1'), '/srv/dhash/releases/r-1');
  assert.equal(quoteShellArgument('--mode=0640'), '--mode=0640');
  assert.equal(quoteShellArgument(''), "''");
  assert.equal(quoteShellArgument('a b'), "'a b'");
  assert.equal(quoteShellArgument("it's"), "'it'\\''s'");
  assert.equal(quoteShellArgument('$HOME'), "'$HOME'");
  assert.throws(() => quoteShellArgument('a\0b'), /NUL byte/);
  assert.throws(() => quoteShellCommand([]), /at least one word/);
});

test('a quoted command line splits back into exactly the argv in sh', () => {
  const argv = ['printf', '[%s]\\n', "it's", '"double"', '$(id)', '`id`', 'a\nb', '', ' ', '*', '\\', '~', '#x', ';'];
  const output = execFileSync('/bin/sh', ['-c', quoteShellCommand(argv)], { encoding: 'utf8' });
  assert.equal(
    output,
    argv
      .slice(2)
      .map((a) => `[${a}]\n`)
      .join(''),
  );
});

test('the ssh command line forces batch mode, strict host keys, timeouts and keep-alives', () => {
  assert.deepEqual(buildSshArgs(host, settings, ['true']), [
    ...['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10'],
    ...['-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=3', '-T', '-p', '22'],
    ...['--', '10.0.0.5', 'true'],
  ]);
});

test('a known_hosts path with a space is quoted so ssh reads it as one file', () => {
  const args = buildSshArgs(host, { ...settings, knownHostsFile: '/home/op/fleet keys/known_hosts' }, ['true']);
  assert.ok(args.includes('UserKnownHostsFile="/home/op/fleet keys/known_hosts"'), args.join(' '));
});

test('the ssh command line carries the config file, identity, known_hosts, port and user when set', () => {
  const args = buildSshArgs(
    { ...host, port: 2222, user: 'deploy' },
    {
      configFile: '/etc/fleet/ssh_config',
      identityFile: '/k/id',
      knownHostsFile: '/k/known',
      connectTimeoutSeconds: 2,
    },
    ['ls', '/srv/dhash/my dir'],
  );
  assert.deepEqual(args.slice(10), [
    ...['-T', '-F', '/etc/fleet/ssh_config', '-i', '/k/id', '-o', 'UserKnownHostsFile=/k/known'],
    ...['-p', '2222', '-l', 'deploy', '--', '10.0.0.5', "ls '/srv/dhash/my dir'"],
  ]);
});

const classify = (stderr: string, overrides: Partial<FleetHostConfig> = {}) =>
  classifySshFailure(stderr, { host: { ...host, ...overrides }, settings, command: 'true' });

test('a changed host key is EHOSTKEYCHANGED with the offered fingerprint and the offending entry', () => {
  const stderr = [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    'The fingerprint for the ED25519 key sent by the remote host is',
    'SHA256:zJQTp6zsb6JlM/jMeYsVCYWsbZK0yl15GuIv/u7PlaQ.',
    'Offending ED25519 key in /home/op/.ssh/known_hosts:7',
    'Host key for 10.0.0.5 has changed and you have requested strict checking.',
    'Host key verification failed.',
  ].join('\r\n');
  const error = classify(stderr);
  assert.equal(error?.code, 'EHOSTKEYCHANGED');
  assert.equal(error?.exitCode, 3);
  assert.equal(
    error?.message,
    'The host key of web-1 (10.0.0.5:22) has changed, so the rollout refuses to connect to it.',
  );
  const expected =
    'The host offered SHA256:zJQTp6zsb6JlM/jMeYsVCYWsbZK0yl15GuIv/u7PlaQ, which does not match the entry for ' +
    '10.0.0.5 in /home/op/.ssh/known_hosts:7.';
  assert.ok(error?.details.startsWith(expected), error?.details);
});

test('an unknown host key is EHOSTKEYUNKNOWN; on another port known_hosts names it [address]:port', () => {
  const stderr = 'No ED25519 host key is known for [10.0.0.5]:2222 and you have requested strict checking.\r\n';
  const error = classify(stderr + 'Host key verification failed.\r\n', { port: 2222 });
  assert.equal(error?.code, 'EHOSTKEYUNKNOWN');
  assert.equal(error?.exitCode, 3);
  assert.ok(error?.details.startsWith('~/.ssh/known_hosts (or the UserKnownHostsFile of your ssh config) has no key'));
  assert.ok(error?.details.includes('no key for [10.0.0.5]:2222,'), error?.details);
});

test('connect failures are EHOSTUNREACHABLE with the reason ssh gave', () => {
  for (const [stderr, reason] of [
    ['ssh: connect to host 10.0.0.5 port 22: Connection timed out\r\n', 'Connection timed out'],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host\r\n', 'No route to host'],
    ['ssh: Could not resolve hostname web-1.internal: Name or service not known\r\n', 'Name or service not known'],
    ['Connection timed out during banner exchange\r\nConnection to 10.0.0.5 port 22 timed out\r\n', 'banner'],
    ['kex_exchange_identification: Connection closed by remote host\r\n', 'kex_exchange_identification'],
  ]) {
    const error = classify(stderr);
    assert.equal(error?.code, 'EHOSTUNREACHABLE', stderr);
    assert.ok(error?.message.startsWith('The host web-1 cannot be reached at 10.0.0.5:22: '), error?.message);
    assert.ok(error?.message.includes(reason), `${error?.message} names ${reason}`);
  }
});

test('auth failures, bad ssh config and lost connections have their own codes; anything else is the command', () => {
  assert.equal(classify('deploy@10.0.0.5: Permission denied (publickey).\r\n')?.code, 'ESSHAUTHFAILED');
  assert.equal(
    classify('/etc/x/ssh_config: line 3: Bad configuration option: hostnmae\r\n')?.code,
    'ESSHCONFIGINVALID',
  );
  assert.equal(classify("Can't open user config file /nope: No such file or directory\r\n")?.code, 'ESSHCONFIGINVALID');
  assert.equal(classify('Timeout, server 10.0.0.5 not responding.\r\n')?.code, 'ESSHCONNECTIONLOST');
  assert.equal(classify('Connection to 10.0.0.5 closed by remote host.\r\n')?.code, 'ESSHCONNECTIONLOST');
  assert.equal(classify(''), null);
  assert.equal(classify('my-script: fatal: something of its own\n'), null);
});
