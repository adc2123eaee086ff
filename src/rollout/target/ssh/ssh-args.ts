// The OpenSSH client's command line for a fleet host: strict host keys, no prompts, bounded connects, dead links seen.
import type { FleetHostConfig, SshTargetConfig } from '../../config/environments-schema.js';
import { quoteShellCommand } from './shell-quote.js';

export type SshSettings = SshTargetConfig['ssh'];

/** Keep-alives missed before ssh gives up on a silent link; with the interval, how long a dead link goes unnoticed. */
export const SERVER_ALIVE_COUNT_MAX = 3;

/** Seconds of silence after which ssh declares the connection dead (ServerAliveInterval × ServerAliveCountMax). */
export function getDeadLinkSeconds(settings: SshSettings): number {
  return settings.connectTimeoutSeconds * SERVER_ALIVE_COUNT_MAX;
}

/**
 * `ssh` options then destination then the remote command, for execFile (no local shell). The operator's own
 * ~/.ssh/config, agent and ProxyJump still apply; only what safety needs is forced on the command line, and
 * command-line options win over the config file.
 */
export function buildSshArgs(host: FleetHostConfig, settings: SshSettings, argv: readonly string[]): string[] {
  const args = [
    // Never prompt (a password or passphrase prompt would hang a rollout), never accept an unknown or changed key.
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `ConnectTimeout=${settings.connectTimeoutSeconds}`,
    '-o',
    `ServerAliveInterval=${settings.connectTimeoutSeconds}`,
    '-o',
    `ServerAliveCountMax=${SERVER_ALIVE_COUNT_MAX}`,
    // No terminal: the remote command's stdin is ours (copyFile streams through it) and its output stays byte-exact.
    '-T',
  ];
  if (settings.configFile) args.push('-F', settings.configFile);
  if (settings.identityFile) args.push('-i', settings.identityFile);
  if (settings.knownHostsFile) args.push('-o', `UserKnownHostsFile=${quoteOptionValue(settings.knownHostsFile)}`);
  args.push('-p', String(host.port));
  if (host.user) args.push('-l', host.user);
  args.push('--', host.address, quoteShellCommand(argv));
  return args;
}

/** UserKnownHostsFile takes a list split at spaces: a path with a space must be quoted to stay one file. */
function quoteOptionValue(value: string): string {
  return /\s/.test(value) ? `"${value}"` : value;
}

/** How known_hosts names the host: the bare address on port 22, `[address]:port` otherwise. */
export function getKnownHostsName(host: FleetHostConfig): string {
  return host.port === 22 ? host.address : `[${host.address}]:${host.port}`;
}

/** The known_hosts file that ssh consults, as an operator would look for it. */
export function describeKnownHostsFile(settings: SshSettings): string {
  return settings.knownHostsFile ?? '~/.ssh/known_hosts (or the UserKnownHostsFile of your ssh config)';
}
