// Network namespaces for the test fleet: one per host, joined to the root namespace by a veth pair on a private /30.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The name every namespace of a fleet starts with; the pid in it tells a crashed run's leftovers from a live one's. */
export const NETNS_PREFIX = 'dhash-fleet-';
/** Root-namespace veth ends are `dhf<subnet index>`: creating the link is how a run claims its subnet, atomically. */
const VETH_PREFIX = 'dhf';
/** 10.77.0.0/16 cut into /30s: index i owns 10.77.0.0 + 4i (gateway .1, host .2 of each /30). */
const SUBNET_COUNT = 16_384;

/** Runs a command to completion; never throws for a non-zero exit (only when it cannot be started). */
export function runCommand(file: string, args: string[], options: { stdin?: string | Buffer } = {}) {
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

/** Runs a command that must succeed; the error names the command line and its stderr. */
export function runRequired(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`\`${[file, ...args].join(' ')}\` failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
  });
}

export interface HostNetwork {
  netns: string;
  vethName: string;
  address: string;
  gatewayAddress: string;
}

function getSubnetAddresses(index: number): { gatewayAddress: string; address: string } {
  const base = index * 4;
  const prefix = `10.77.${base >> 8}.`;
  return { gatewayAddress: `${prefix}${(base & 255) + 1}`, address: `${prefix}${(base & 255) + 2}` };
}

/**
 * Creates the namespace `netns` with `lo` up and `eth0` on a free /30 whose other end is `dhf<index>` in the root
 * namespace, plus a default route through it (PostgreSQL and Prometheus live in the root namespace).
 */
export async function createHostNetwork(netns: string): Promise<HostNetwork> {
  await runRequired('ip', ['netns', 'add', netns]);
  let index = randomInt(SUBNET_COUNT);
  for (let attempt = 0; ; attempt += 1) {
    const vethName = `${VETH_PREFIX}${index}`;
    // The peer is born inside the namespace: an `eth0` in the root namespace would clash with the real one.
    const created = await runCommand('ip', [
      'link',
      'add',
      vethName,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      netns,
    ]);
    if (created.exitCode === 0) {
      await addAddresses(netns, vethName, getSubnetAddresses(index));
      return { netns, vethName, ...getSubnetAddresses(index) };
    }
    if (!/File exists/.test(created.stderr) || attempt > 200) {
      throw new Error(`cannot create the veth pair for ${netns}: ${created.stderr.trim()}`);
    }
    index = (index + 1) % SUBNET_COUNT;
  }
}

async function addAddresses(netns: string, vethName: string, addresses: { gatewayAddress: string; address: string }) {
  await runBatch([], [`addr add ${addresses.gatewayAddress}/30 dev ${vethName}`, `link set ${vethName} up`]);
  await runBatch(
    ['-n', netns],
    [
      'link set lo up',
      `addr add ${addresses.address}/30 dev eth0`,
      'link set eth0 up',
      `route add default via ${addresses.gatewayAddress}`,
    ],
  );
}

/** One `ip -batch` run for several changes: one process instead of four keeps set-up well under a second a host. */
async function runBatch(ipOptions: string[], lines: string[]): Promise<void> {
  const result = await runCommand('ip', [...ipOptions, '-batch', '-'], { stdin: lines.join('\n') + '\n' });
  if (result.exitCode !== 0) throw new Error(`\`ip ${ipOptions.join(' ')} -batch\` failed: ${result.stderr.trim()}`);
}

/** The pids of every process whose network namespace is `netns` (sshd and anything a login started). */
export async function listNetnsPids(netns: string): Promise<number[]> {
  const result = await runCommand('ip', ['netns', 'pids', netns]);
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

async function waitUntilEmpty(netns: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await listNetnsPids(netns)).length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Stops every process of the namespace (SIGTERM, then SIGKILL after `graceMs`), deletes it (its veth pair goes with
 * it) and waits until the root-namespace end is gone. Idempotent: a missing namespace is not an error.
 */
export async function deleteHostNetwork(network: { netns: string; vethName?: string }, graceMs = 2000) {
  signalAll(await listNetnsPids(network.netns), 'SIGTERM');
  if (!(await waitUntilEmpty(network.netns, graceMs))) {
    signalAll(await listNetnsPids(network.netns), 'SIGKILL');
    if (!(await waitUntilEmpty(network.netns, 2000))) {
      throw new Error(`processes of ${network.netns} survived SIGKILL: ${await listNetnsPids(network.netns)}`);
    }
  }
  await runCommand('ip', ['netns', 'delete', network.netns]);
  if (network.vethName) await waitForLinkGone(network.vethName);
}

async function waitForLinkGone(vethName: string): Promise<void> {
  // The kernel destroys a dead namespace's links from a work queue, a moment after the last process left.
  const deadline = Date.now() + 5000;
  while ((await runCommand('ip', ['link', 'show', vethName])).exitCode === 0) {
    if (Date.now() > deadline) throw new Error(`the veth ${vethName} is still there 5 s after its namespace went`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The same, synchronously, for the process `exit` handler: SIGKILL at once, no waiting for the links. */
export function deleteHostNetworkSync(netns: string): void {
  try {
    const listed = execFileSync('ip', ['netns', 'pids', netns], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    signalAll(listed.split('\n').filter(Boolean).map(Number), 'SIGKILL');
    execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
  } catch {}
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces of this helper whose creating test process no longer runs (a crashed or killed run): removed. */
export async function deleteLeftoverNetworks(): Promise<string[]> {
  const listed = await runCommand('ip', ['netns', 'list']);
  const leftovers = listed.stdout
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => {
      const match = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(name);
      return match !== null && !isPidAlive(Number(match[1]));
    });
  await Promise.all(leftovers.map((netns) => deleteHostNetwork({ netns }, 500)));
  return leftovers;
}

/** Takes the host's end of the link down (packets are dropped, as on a dead cable: connects time out). */
export async function setHostLinkDown(network: HostNetwork): Promise<void> {
  await runRequired('ip', ['-n', network.netns, 'link', 'set', 'eth0', 'down']);
}

/** Brings it back with its default route, and forgets the failed neighbour entries so the next connect succeeds. */
export async function setHostLinkUp(network: HostNetwork): Promise<void> {
  await runRequired('ip', ['-n', network.netns, 'link', 'set', 'eth0', 'up']);
  await runRequired('ip', ['-n', network.netns, 'route', 'replace', 'default', 'via', network.gatewayAddress]);
  await runCommand('ip', ['neigh', 'flush', 'dev', network.vethName]);
  await runCommand('ip', ['-n', network.netns, 'neigh', 'flush', 'dev', 'eth0']);
}
