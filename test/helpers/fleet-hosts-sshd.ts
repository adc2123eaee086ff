// One sshd per test host: its own host key and config in a temp folder, run in the host's network namespace and in a
// private mount namespace where the host's own folder is bound at /srv/dhash.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runCommand, runRequired } from './fleet-hosts-netns.js';

/** Where every host sees its environment root (the fleet's `root` in environments.json). */
export const HOST_ROOT = '/srv/dhash';
export const SSHD_BINARY = '/usr/sbin/sshd';

/** An ed25519 key pair at `file` and `file.pub`, no passphrase. */
export async function generateKeyPair(file: string, comment: string): Promise<void> {
  await runRequired('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** `type base64` of a public key file, without its comment. */
export async function readPublicKey(pubFile: string): Promise<string> {
  const [type, base64] = (await readFile(pubFile, 'utf8')).trim().split(/\s+/);
  return `${type} ${base64}`;
}

/** The fingerprint `ssh-keygen -lf` and ssh's own warnings print: SHA256 of the key blob, unpadded base64. */
export function getFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1], 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line; on port 22 ssh looks a host up by its bare address, on others as `[address]:port`. */
export function formatKnownHostsLine(address: string, port: number, publicKey: string): string {
  return `${port === 22 ? address : `[${address}]:${port}`} ${publicKey}`;
}

export interface SshdFiles {
  dir: string;
  configFile: string;
  hostKeyFile: string;
  logFile: string;
}

/** Writes the host's sshd_config: key auth only, root by key, no PAM, files in `dir` (so StrictModes is off). */
export async function writeSshdConfig(dir: string, address: string, clientPublicKey: string): Promise<SshdFiles> {
  const files = {
    dir,
    configFile: join(dir, 'sshd_config'),
    hostKeyFile: join(dir, 'ssh_host_ed25519_key'),
    logFile: join(dir, 'sshd.log'),
  };
  await writeFile(join(dir, 'authorized_keys'), `${clientPublicKey}\n`, { mode: 0o600 });
  const config = [
    `ListenAddress ${address}:22`,
    `HostKey ${files.hostKeyFile}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The key files live under /tmp (world-writable): StrictModes would refuse them.
    'StrictModes no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    // A wave runs several sessions per host at once; sshd's default (10:30:100) would drop some.
    'MaxStartups 200',
    'MaxSessions 100',
    'PerSourceMaxStartups none',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
  await writeFile(files.configFile, config);
  return files;
}

/**
 * Starts sshd for one host and returns its pid. `ip netns exec`, `unshare` and `sh -c … exec` all exec in place, so
 * the spawned pid is sshd's own. Resolves once sshd answers with its banner on `address:22`.
 */
export async function startSshd(options: {
  name: string;
  netns: string;
  srvDir: string;
  address: string;
  files: SshdFiles;
}) {
  const { name, netns, srvDir, address, files } = options;
  const logFd = openSync(files.logFile, 'a');
  // A fleet host is a clean machine: the developer's ~/.bashrc (pyenv, cargo: half a second a login) is hidden.
  const hideBashrc = 'if [ -f /root/.bashrc ]; then mount --bind /dev/null /root/.bashrc; fi';
  // Its own UTS namespace too, so `hostname` on each host answers with the host's name.
  const script = [`mount --bind "$1" ${HOST_ROOT}`, hideBashrc, 'hostname "$3"', `exec ${SSHD_BINARY} -D -e -f "$2"`];
  const unshare = ['unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script.join(' && '), 'sh'];
  const child = spawn('ip', ['netns', 'exec', netns, ...unshare, srvDir, files.configFile, name], {
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  child.unref();
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const deadline = Date.now() + 5000;
  while (!(await hasSshBanner(address, 22))) {
    if (exited !== null || Date.now() > deadline) {
      const log = (await readFile(files.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new Error(`sshd of ${netns} did not come up (${exited ?? 'no banner after 5 s'}): ${log}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return child.pid as number;
}

/** True when something on `address:port` greets with an SSH banner. */
function hasSshBanner(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 500 });
    const finish = (isSsh: boolean) => {
      socket.destroy();
      resolve(isSsh);
    };
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/**
 * Replaces the host key and restarts sshd (SIGHUP makes sshd re-exec itself: same pid, same namespaces) and waits
 * until it serves the new key. Returns the new public key.
 */
export async function rotateSshdHostKey(files: SshdFiles, sshdPid: number, address: string): Promise<string> {
  const next = `${files.hostKeyFile}.next`;
  await rm(next, { force: true });
  await rm(`${next}.pub`, { force: true });
  await generateKeyPair(next, 'rotated');
  await rename(`${next}.pub`, `${files.hostKeyFile}.pub`);
  await rename(next, files.hostKeyFile);
  const publicKey = await readPublicKey(`${files.hostKeyFile}.pub`);
  process.kill(sshdPid, 'SIGHUP');
  const deadline = Date.now() + 5000;
  for (;;) {
    const scan = await runCommand('ssh-keyscan', ['-T', '1', '-t', 'ed25519', address]);
    if (scan.stdout.includes(publicKey.split(' ')[1])) return publicKey;
    if (Date.now() > deadline) throw new Error(`sshd at ${address} still serves its old host key 5 s after SIGHUP`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
