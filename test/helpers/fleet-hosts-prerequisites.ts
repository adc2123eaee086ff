// What a machine needs to host the test fleet: root, iproute2, util-linux and OpenSSH (client and server).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SSHD_BINARY } from './fleet-hosts-sshd.js';

/** One line naming everything missing, so a machine that cannot host the fleet fails the test, never skips it. */
export function assertFleetPrerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root for ip netns');
  const needs: [string, string][] = [
    ['ip', 'iproute2 (ip)'],
    ['unshare', 'util-linux (unshare)'],
    ['nsenter', 'util-linux (nsenter)'],
    ['ssh-keygen', 'openssh-client (ssh-keygen)'],
    ['ssh-keyscan', 'openssh-client (ssh-keyscan)'],
  ];
  for (const [binary, what] of needs) if (!findExecutable(binary)) missing.push(what);
  if (!isExecutable(SSHD_BINARY)) missing.push(`openssh-server (${SSHD_BINARY})`);
  if (missing.length > 0) throw new Error(`the test fleet needs ${missing.join(', ')}`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findExecutable(binary: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.some((d) => d !== '' && isExecutable(join(d, binary)));
}
