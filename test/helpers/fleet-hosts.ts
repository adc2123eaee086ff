// A fleet of real test hosts: per host a network namespace on its own veth, its own sshd and its own /srv/dhash.
import { accessSync, constants, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetHostConfig } from '../../src/rollout/config/environments-schema.js';
import {
  createHostNetwork,
  deleteHostNetwork,
  deleteHostNetworkSync,
  deleteLeftoverNetworks,
  isPidAlive,
  NETNS_PREFIX,
  runCommand,
  setHostLinkDown,
  setHostLinkUp,
  type CommandResult,
  type HostNetwork,
} from './fleet-hosts-netns.js';
import {
  formatKnownHostsLine,
  generateKeyPair,
  getFingerprint,
  HOST_ROOT,
  readPublicKey,
  rotateSshdHostKey,
  startSshd,
  writeSshdConfig,
  type SshdFiles,
} from './fleet-hosts-sshd.js';
import { assertFleetPrerequisites } from './fleet-hosts-prerequisites.js';

export type { CommandResult } from './fleet-hosts-netns.js';

export interface TestFleetHost {
  name: string;
  /** The host's address inside its namespace (what ssh and the rollout connect to), e.g. 10.77.3.6. */
  address: string;
  /** The root-namespace end of its veth, where it reaches PostgreSQL and Prometheus, e.g. 10.77.3.5. */
  gatewayAddress: string;
  netns: string;
  /** The root-namespace end of the veth pair. */
  vethName: string;
  sshPort: number;
  /** Where the host sees its environment root: always /srv/dhash. */
  root: string;
  /** The real folder bound at /srv/dhash for this host, readable from the test. */
  srvDir: string;
  /** SHA256:… of the key sshd serves now (changes on rotateHostKey). */
  hostKeyFingerprint: string;
  sshdPid: number;
}

export interface TestFleetSshOptions {
  identityFile: string;
  /** Holds every host's key as first generated (rotateHostKey does not update it). */
  knownHostsFile: string;
  /** `ssh -F`: User root, the identity, the known_hosts file, and a `Host <name>` alias per host. */
  configFile: string;
  user: string;
}

export interface TestFleet {
  hosts: TestFleetHost[];
  sshOptions: TestFleetSshOptions;
  /** The hosts as environments.json's `target.hosts` entries (driver `process`, root /srv/dhash). */
  hostConfigs: FleetHostConfig[];
  /** The fleet's temp folder (keys, configs, logs, every srvDir). */
  dir: string;
  getHost(name: string): TestFleetHost;
  /** Runs argv in the host's network, mount and UTS namespaces (as its ssh sessions do); never throws on exit code. */
  exec(hostName: string, argv: string[], options?: { stdin?: string | Buffer }): Promise<CommandResult>;
  /** Drops the host's link: connections to it time out until setLinkUp. */
  setLinkDown(hostName: string): Promise<void>;
  setLinkUp(hostName: string): Promise<void>;
  /** New host key, sshd restarted on it; the known_hosts entry no longer matches. */
  rotateHostKey(hostName: string): Promise<void>;
  /** Kills everything the hosts run, deletes namespaces, veths and temp files. Idempotent. */
  teardown(): Promise<void>;
}

export interface CreateTestFleetOptions {
  hosts: string[];
  /** Tears the fleet down when the test ends. */
  t?: { after: (fn: () => Promise<void>) => void };
}

/**
 * Where fleets live: a tmpfs when the machine has one (/dev/shm), else the temp folder. Every host unpacks whole
 * releases (~90 MB, thousands of files) and syncs what it receives; on a tmpfs that costs a fraction of what a disk
 * does, and the hosts still run on a real filesystem with real free-space numbers.
 */
export const FLEET_BASE = pickFleetBase();

function pickFleetBase(): string {
  try {
    if (!statSync('/dev/shm').isDirectory()) return tmpdir();
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/**
 * A temp folder beside the fleets (`<prefix><pid>-…`, `prefix` letters and dashes) for a test's builds and
 * artifacts; folders of that prefix left by a process that is gone (killed by a timeout) are removed first.
 */
export async function createFleetTempDir(prefix: string): Promise<string> {
  const pattern = new RegExp(`^${prefix}(\\d+)-`);
  for (const name of readdirSync(FLEET_BASE)) {
    const match = pattern.exec(name);
    if (match && !isPidAlive(Number(match[1]))) rmSync(join(FLEET_BASE, name), { recursive: true, force: true });
  }
  return mkdtemp(join(FLEET_BASE, `${prefix}${process.pid}-`));
}

let fleetSeq = 0;
/** Fleets not yet torn down, for the process `exit` handler. */
const liveFleets = new Map<string, { dir: string; netnsNames: string[] }>();

/** Creates the hosts in parallel; a failure tears down whatever was made and rethrows. */
export async function createTestFleet(options: CreateTestFleetOptions): Promise<TestFleet> {
  assertFleetPrerequisites();
  validateHostNames(options.hosts);
  await deleteLeftovers();
  // sshd's privilege separation directory, and the mount point every host's folder is bound onto.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await mkdir(HOST_ROOT, { recursive: true });
  fleetSeq += 1;
  const dir = await mkdtemp(join(FLEET_BASE, `${NETNS_PREFIX}${process.pid}-${fleetSeq}-`));
  const tracked = { dir, netnsNames: [] as string[] };
  liveFleets.set(dir, tracked);
  registerExitHandler();
  const networks: HostNetwork[] = [];
  let tearingDown: Promise<void> | undefined;
  const teardown = () =>
    (tearingDown ??= (async () => {
      await Promise.all(tracked.netnsNames.map((netns) => deleteHostNetwork(findNetwork(networks, netns))));
      await rm(dir, { recursive: true, force: true });
      liveFleets.delete(dir);
    })());
  options.t?.after(teardown);
  try {
    const identityFile = join(dir, 'client_ed25519');
    await generateKeyPair(identityFile, 'dhash-test-fleet');
    const clientKey = await readPublicKey(`${identityFile}.pub`);
    const made = await Promise.all(
      options.hosts.map((name) =>
        createHost(
          { name, netns: `${NETNS_PREFIX}${process.pid}-${fleetSeq}-${name}`, dir, clientKey },
          {
            onNetns: (netns) => tracked.netnsNames.push(netns),
            onNetwork: (network) => networks.push(network),
          },
        ),
      ),
    );
    const sshOptions = await writeClientFiles(dir, identityFile, made);
    return assembleFleet({ dir, made, networks, sshOptions, teardown });
  } catch (error) {
    await teardown();
    throw error;
  }
}

function findNetwork(networks: HostNetwork[], netns: string): { netns: string; vethName?: string } {
  return networks.find((n) => n.netns === netns) ?? { netns };
}

interface MadeHost {
  host: TestFleetHost;
  network: HostNetwork;
  files: SshdFiles;
  publicKey: string;
}

async function createHost(
  spec: { name: string; netns: string; dir: string; clientKey: string },
  track: { onNetns: (netns: string) => void; onNetwork: (network: HostNetwork) => void },
): Promise<MadeHost> {
  const hostDir = join(spec.dir, spec.name);
  const srvDir = join(hostDir, 'srv');
  await mkdir(srvDir, { recursive: true });
  track.onNetns(spec.netns);
  const network = await createHostNetwork(spec.netns);
  track.onNetwork(network);
  const files = await writeSshdConfig(hostDir, network.address, spec.clientKey);
  await generateKeyPair(files.hostKeyFile, spec.name);
  const publicKey = await readPublicKey(`${files.hostKeyFile}.pub`);
  const sshdPid = await startSshd({ name: spec.name, netns: spec.netns, srvDir, address: network.address, files });
  const host: TestFleetHost = {
    name: spec.name,
    address: network.address,
    gatewayAddress: network.gatewayAddress,
    netns: spec.netns,
    vethName: network.vethName,
    sshPort: 22,
    root: HOST_ROOT,
    srvDir,
    hostKeyFingerprint: getFingerprint(publicKey),
    sshdPid,
  };
  return { host, network, files, publicKey };
}

async function writeClientFiles(dir: string, identityFile: string, made: MadeHost[]): Promise<TestFleetSshOptions> {
  const knownHostsFile = join(dir, 'known_hosts');
  const configFile = join(dir, 'ssh_config');
  await writeFile(
    knownHostsFile,
    made.map((m) => formatKnownHostsLine(m.host.address, 22, m.publicKey) + '\n').join(''),
  );
  const aliases = made.map((m) => `Host ${m.host.name}\n  HostName ${m.host.address}\n`).join('');
  // IdentitiesOnly and the null global file keep the operator's agent keys and /etc/ssh out of the tests.
  const defaults = [
    'Host *',
    '  User root',
    `  IdentityFile ${identityFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHostsFile}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  ControlMaster no',
    '  ControlPath none',
    '',
  ].join('\n');
  await writeFile(configFile, aliases + defaults);
  return { identityFile, knownHostsFile, configFile, user: 'root' };
}

function assembleFleet(parts: {
  dir: string;
  made: MadeHost[];
  networks: HostNetwork[];
  sshOptions: TestFleetSshOptions;
  teardown: () => Promise<void>;
}): TestFleet {
  const find = (name: string): MadeHost => {
    const found = parts.made.find((m) => m.host.name === name);
    if (!found) throw new Error(`no test host named ${name} (have ${parts.made.map((m) => m.host.name).join(', ')})`);
    return found;
  };
  return {
    hosts: parts.made.map((m) => m.host),
    sshOptions: parts.sshOptions,
    hostConfigs: parts.made.map((m) => ({
      name: m.host.name,
      address: m.host.address,
      port: 22,
      user: 'root',
      root: HOST_ROOT,
      driver: 'process',
    })),
    dir: parts.dir,
    getHost: (name) => find(name).host,
    exec: (name, argv, options) =>
      runCommand('nsenter', ['-t', String(find(name).host.sshdPid), '-n', '-m', '-u', '--', ...argv], options),
    setLinkDown: (name) => setHostLinkDown(find(name).network),
    setLinkUp: (name) => setHostLinkUp(find(name).network),
    rotateHostKey: async (name) => {
      const m = find(name);
      m.publicKey = await rotateSshdHostKey(m.files, m.host.sshdPid, m.host.address);
      m.host.hostKeyFingerprint = getFingerprint(m.publicKey);
    },
    teardown: parts.teardown,
  };
}

function validateHostNames(names: string[]): void {
  const bad = names.filter((n, i) => !/^[a-z][a-z0-9-]{0,15}$/.test(n) || names.indexOf(n) !== i);
  if (names.length === 0 || bad.length > 0) {
    throw new Error(`test fleet host names are unique lower-case words of ≤ 16 chars, got ${JSON.stringify(names)}`);
  }
}

/** Namespaces and temp folders left by an earlier run whose process is gone (crashed, killed by a timeout). */
async function deleteLeftovers(): Promise<void> {
  await deleteLeftoverNetworks();
  const pattern = new RegExp(`^${NETNS_PREFIX}(\\d+)-`);
  for (const base of new Set([FLEET_BASE, tmpdir()])) {
    for (const name of readdirSync(base)) {
      const match = pattern.exec(name);
      if (match && !isPidAlive(Number(match[1]))) rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

let isExitHandlerRegistered = false;
/** A test that never reaches its teardown (an exception, process.exit) still leaves nothing running. */
function registerExitHandler(): void {
  if (isExitHandlerRegistered) return;
  isExitHandlerRegistered = true;
  process.once('exit', () => {
    for (const fleet of liveFleets.values()) {
      for (const netns of fleet.netnsNames) deleteHostNetworkSync(netns);
      rmSync(fleet.dir, { recursive: true, force: true });
    }
  });
}
