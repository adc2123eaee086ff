// A whole fleet on one machine for the fleet e2e tests and bench: three network-namespace hosts with sshd, PostgreSQL
// listening on their gateway addresses, Prometheus scraping the three services every second, a controller project
// whose environments.json describes them, real release artifacts, and traffic sent by the test.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createSystemClock } from '../../src/lib/clock.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/rollout/config/environments.js';
import { readFleetState, type FleetStateFile } from '../../src/rollout/fleet/fleet-state.js';
import { buildRelease } from '../../src/rollout/release/build-release.js';
import { runCliForTest, type CliResult } from '../helpers/cli.js';
import { createReleaseVariant } from '../helpers/deploy-project.js';
import { createFleetTempDir, createTestFleet, FLEET_BASE, type TestFleet } from '../helpers/fleet-hosts.js';
import { getFreePort } from '../helpers/free-port.js';
import { createFixtureImage } from '../helpers/images.js';
import { POSTGRES_BIN_DIR, startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { killOnExit, REPO_ROOT, waitFor } from '../helpers/processes.js';

export const ENV_NAME = 'fleet';
export const SERVICE_PORT = 8787;
export const HOST_NAMES = ['web-1', 'web-2', 'web-3'];
const PROMETHEUS_BINARY = '/usr/bin/prometheus';
const ROLLOUT_TOKEN = 'rollout-token-fleet-e2e-0001';
const APP_TOKEN = 'app-token-fleet-e2e-0002';
const DATABASE_PASSWORD = 'fleet-db-pw-7731';
/** Distinctive secrets a test searches every output for. */
export const LAB_SECRETS = [ROLLOUT_TOKEN, APP_TOKEN, DATABASE_PASSWORD];

type After = { after: (fn: () => Promise<void>) => void };

export interface FleetSettings {
  waves?: (number | string)[];
  bake?: string;
  maxUnavailable?: number;
  /** The T+60 monitor's window after the last wave (quality-gates-config.json), polled every second; 3s unless set. */
  monitorWindow?: string;
}

export interface FleetLab {
  fleet: TestFleet;
  postgres: PostgresServer;
  prometheusUrl: string;
  projectRoot: string;
  /** What the controller runs with: the database URL, the service tokens, the rollout's token. */
  processEnv: Record<string, string>;
  /** The good release as built from this checkout (its .tar.gz). */
  goodArtifact: string;
  /** Rewrites environments.json for the next rollout. */
  configure(settings: FleetSettings): Promise<void>;
  /** A copy of the good release as another release (`tag`), changed by `mutate`, as an artifact. */
  createVariant(tag: string, mutate?: (dir: string) => Promise<void>): Promise<string>;
  /** `dhash deploy --env fleet --release <artifact>` in-process, with the controller's environment. */
  deploy(artifact: string, extra?: string[]): Promise<CliResult>;
  status(): Promise<CliResult>;
  getEnvironment(): Promise<ResolvedEnvironment>;
  readState(): Promise<FleetStateFile | undefined>;
  /** What a host has on disk: where `current` points, and every folder under releases/. */
  readHost(name: string): Promise<{ current?: string; releases: string[] }>;
  /** Sends hash requests to every host until stopped; `format()` is asked before each request. */
  startTraffic(format: () => 'png' | 'jpeg'): { stop(): Promise<{ sent: number; failed: number }> };
}

/** Everything up; torn down when the test ends. Throws one line naming what the machine lacks. */
export async function createFleetLab(t: After): Promise<FleetLab> {
  if (!existsSync(PROMETHEUS_BINARY)) throw new Error(`the fleet tests need prometheus (${PROMETHEUS_BINARY})`);
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('the fleet tests need `npm run build`');
  // Beside the fleet (a tmpfs where there is one): the release build and every variant copy ~90 MB of files.
  const dir = await createFleetTempDir('dhash-fleet-lab-');
  t.after(async () => {
    if (!process.env.DHASH_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });
  // The controller unpacks and verifies every artifact it deploys in os.tmpdir(): there too while the lab is up.
  const tmpdirBefore = process.env.TMPDIR;
  process.env.TMPDIR = FLEET_BASE;
  t.after(async () => {
    if (tmpdirBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdirBefore;
  });
  const fleet = await createTestFleet({ hosts: HOST_NAMES, t });
  const postgres = await startPostgres({
    listenAddresses: fleet.hosts.map((h) => h.gatewayAddress),
    password: DATABASE_PASSWORD,
    t,
  });
  // One URL for every host and the controller: the first host's gateway address, reachable from all namespaces.
  const databaseUrl = postgres.url.replace('@127.0.0.1:', `@${fleet.hosts[0].gatewayAddress}:`);
  const prometheusUrl = await startFleetPrometheus(t, dir, fleet);
  const projectRoot = join(dir, 'project');
  await createControllerProject(projectRoot);
  const clock = createSystemClock();
  const artifacts = join(dir, 'artifacts');
  const good = await buildRelease({ projectRoot: REPO_ROOT, outDir: artifacts, clock, createArtifact: true });
  const processEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DHASH_DATABASE_URL: databaseUrl,
    DHASH_API_TOKENS: `rollout:admin:${ROLLOUT_TOKEN},app:write:${APP_TOKEN}`,
    DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN,
    DHASH_PG_BIN_DIR: POSTGRES_BIN_DIR,
    TMPDIR: FLEET_BASE,
  };
  const lab: FleetLab = {
    fleet,
    postgres,
    prometheusUrl,
    projectRoot,
    processEnv,
    goodArtifact: good.artifact!,
    async configure(settings) {
      await writeControllerConfig(projectRoot, fleet, prometheusUrl, settings);
      await writeQualityGates(projectRoot, settings.monitorWindow ?? '3s');
    },
    async createVariant(tag, mutate = async () => {}) {
      const variant = await createReleaseVariant(good.dir, artifacts, tag, mutate);
      return packArtifact(variant);
    },
    deploy: (artifact, extra = []) =>
      runCliForTest(['deploy', '--env', ENV_NAME, '--release', artifact, ...extra], { cwd: projectRoot, processEnv }),
    status: () => runCliForTest(['status', '--env', ENV_NAME], { cwd: projectRoot, processEnv }),
    getEnvironment: () => resolveEnvironment(projectRoot, ENV_NAME, processEnv),
    readState: async () => readFleetState(await lab.getEnvironment()),
    async readHost(name) {
      const srv = fleet.getHost(name).srvDir;
      const current = await readlink(join(srv, 'current')).then(
        (target) => basename(target),
        () => undefined,
      );
      const releases = await readdir(join(srv, 'releases')).catch(() => [] as string[]);
      return { ...(current ? { current } : {}), releases: releases.filter((n) => !n.startsWith('.')).sort() };
    },
    startTraffic: (format) => startTraffic(fleet, format),
  };
  await lab.configure({});
  return lab;
}

/** The controller's checkout: the built toolkit and its modules. */
async function createControllerProject(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await symlink(join(REPO_ROOT, 'dist'), join(root, 'dist'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  await copyFile(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
}

/** The fleet's gates (few events on a test fleet). */
async function writeQualityGates(root: string, monitorWindow: string): Promise<void> {
  const gates = {
    defaults: {
      // The T+60 monitor after the last wave, shortened as `local`'s is so a test rollout finishes.
      monitor: { window: monitorWindow, poll: [{ every: '1s' }] },
      gates: {
        health: { maxConsecutiveFailures: 2, action: 'rollback' },
        extractionFailureRate: { maxPercent: 5, window: '10m', minEvents: 10, action: 'rollback' },
        p95HashTime: { maxMs: 2000, window: '15m', minEvents: 5, action: 'rollback' },
        lowConfidenceQueue: { maxItems: 1000, action: 'rollback' },
        cpu: { maxPercent: 90, window: '5m', action: 'alert' },
        memory: { maxPercent: 90, action: 'alert' },
        disk: { maxPercent: 90, action: 'alert' },
      },
    },
  };
  await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates, null, 2) + '\n');
}

async function writeControllerConfig(
  root: string,
  fleet: TestFleet,
  prometheusUrl: string,
  settings: FleetSettings,
): Promise<void> {
  const environments = {
    environments: {
      [ENV_NAME]: {
        description: 'Three network-namespace hosts of the fleet e2e tests.',
        root: '.dhash/fleet',
        service: { host: '0.0.0.0', port: SERVICE_PORT },
        target: {
          type: 'ssh',
          hosts: fleet.hostConfigs,
          waves: settings.waves ?? [1, '100%'],
          bake: settings.bake ?? '4s',
          maxUnavailable: settings.maxUnavailable ?? 0,
          ssh: {
            configFile: fleet.sshOptions.configFile,
            identityFile: fleet.sshOptions.identityFile,
            knownHostsFile: fleet.sshOptions.knownHostsFile,
            connectTimeoutSeconds: 2,
          },
          nodePath: process.execPath,
        },
        signals: { source: 'prometheus', url: prometheusUrl, selector: 'job="dhash-fleet"', hostLabel: 'instance' },
        database: { engine: 'postgres' },
        deploy: { minFreeDiskMb: 10, healthyChecksRequired: 2, healthCheckIntervalMs: 100, healthTimeoutMs: 30_000 },
        notifications: { routing: { info: [], warning: [], critical: [] } },
      },
    },
  };
  await writeFile(join(root, 'environments.json'), JSON.stringify(environments, null, 2) + '\n');
}

/** Prometheus on 127.0.0.1 scraping the three services (at their namespace addresses) every second. */
async function startFleetPrometheus(t: After, dir: string, fleet: TestFleet): Promise<string> {
  const port = await getFreePort();
  const targets = fleet.hosts.map((h) => `'${h.address}:${SERVICE_PORT}'`).join(', ');
  const config =
    'global:\n  scrape_interval: 1s\n  scrape_timeout: 800ms\n  evaluation_interval: 1s\n' +
    `scrape_configs:\n  - job_name: dhash-fleet\n    static_configs:\n      - targets: [${targets}]\n`;
  await mkdir(join(dir, 'prom-data'), { recursive: true });
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  killOnExit(t, child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).status === 200, 30_000);
  return url;
}

/** `<dir>.tar.gz` and its .sha256, as `dhash release build` writes them (gzip's fastest level: the same format). */
function packArtifact(releaseDir: string): string {
  const artifact = `${releaseDir}.tar.gz`;
  execFileSync('tar', ['-I', 'gzip -1', '-cf', artifact, '-C', join(releaseDir, '..'), basename(releaseDir)]);
  const sha256 = createHash('sha256')
    .update(execFileSync('cat', [artifact], { maxBuffer: 1 << 30 }))
    .digest('hex');
  execFileSync('sh', [
    '-c',
    `printf '%s  %s\\n' "$1" "$2" > "$3"`,
    'sh',
    sha256,
    basename(artifact),
    `${artifact}.sha256`,
  ]);
  return artifact;
}

/** Round-robin hash requests to every host, a few at a time, with the app's token; errors are counted, not thrown. */
function startTraffic(
  fleet: TestFleet,
  format: () => 'png' | 'jpeg',
): { stop(): Promise<{ sent: number; failed: number }> } {
  let isRunning = true;
  let sent = 0;
  let failed = 0;
  const images = Promise.all([
    createFixtureImage({ kind: 'photo', width: 64, height: 48, seed: 7, format: 'png' }),
    createFixtureImage({ kind: 'photo', width: 64, height: 48, seed: 7, format: 'jpeg' }),
  ]);
  const loop = (async () => {
    const [png, jpeg] = await images;
    while (isRunning) {
      await Promise.all(
        fleet.hosts.map(async (h) => {
          const body = format() === 'jpeg' ? jpeg : png;
          try {
            const response = await fetch(`http://${h.address}:${SERVICE_PORT}/v1/hash`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${APP_TOKEN}`,
                'content-type': body === jpeg ? 'image/jpeg' : 'image/png',
              },
              body,
              signal: AbortSignal.timeout(1000),
            });
            await response.arrayBuffer();
            sent++;
            if (!response.ok) failed++;
          } catch {
            failed++;
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      isRunning = false;
      await loop;
      return { sent, failed };
    },
  };
}

/** Waits (with a deadline) until the controller's fleet state satisfies `predicate`. */
export async function waitForFleetState(
  lab: FleetLab,
  what: string,
  predicate: (state: FleetStateFile) => boolean,
  timeoutMs = 120_000,
): Promise<void> {
  await waitFor(
    what,
    async () => {
      const state = await lab.readState();
      return state !== undefined && predicate(state);
    },
    timeoutMs,
    100,
  );
}

/** The journal lines of the controller, for failure messages. */
export async function readControllerJournal(lab: FleetLab): Promise<string> {
  const environment = await lab.getEnvironment();
  return readFile(join(environment.stateDir, 'deploy-journal.jsonl'), 'utf8').catch(() => '');
}
