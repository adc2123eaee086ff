// A fleet in memory for the orchestrator's unit tests: FleetHostOps hosts that keep releases/current like a real host,
// a FleetDatabase, a FleetSignalSource computed from what each host runs, a recording notifier and a manual clock.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createManualClock, type ManualClock } from '../../../../src/lib/clock.js';
import { createError } from '../../../../src/lib/errors.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';
import { createRedactor } from '../../../../src/lib/redact.js';
import { resolveEnvironmentConfig, type ResolvedEnvironment } from '../../../../src/rollout/config/environments.js';
import { environmentSchema, type FleetHostConfig } from '../../../../src/rollout/config/environments-schema.js';
import { getTestGates } from './test-gates.js';
import type { HealthCheck } from '../../../../src/rollout/checks/health.js';
import type { FleetDatabase, FleetMigration } from '../../../../src/rollout/fleet/fleet-database.js';
import type { FleetSignalValues } from '../../../../src/rollout/fleet/fleet-gates.js';
import type { FleetRolloutOptions, FleetRolloutResult } from '../../../../src/rollout/fleet/fleet-run.js';
import type { FleetSignalSource } from '../../../../src/rollout/fleet/fleet-signals.js';
import { rollOutFleet } from '../../../../src/rollout/fleet/roll-out-fleet.js';
import type { NotificationInput, Notifier } from '../../../../src/rollout/notify/index.js';
import { computeContentSha256 } from '../../../../src/rollout/release/content-hash.js';
import type {
  FleetHostOps,
  HostActivation,
  HostReachability,
  HostStatus,
  StageArtifact,
} from '../../../../src/rollout/target/ssh/host-ops.js';
import { createTempDir } from '../../../helpers/temp-dir.js';

export const START_MS = Date.UTC(2026, 10, 28, 1, 0, 0);
export const OLD_RELEASE = '20261120T000000000Z-0.1.0-old';

type Reachability = 'up' | 'down' | 'key-changed';

/** One host in memory: its releases, `current`, previous, service env and health, and every call made to it. */
export class MemoryHost implements FleetHostOps {
  releases = new Set<string>();
  current: string | undefined;
  previous: string | undefined;
  serviceEnv: Record<string, string> | undefined;
  reachability: Reachability = 'up';
  calls: string[] = [];
  /** What the host's own activation does with a release: `healthy`, or fails its health and switches back. */
  activationOutcome: (releaseId: string) => 'healthy' | 'switch-back' | 'stuck' = () => 'healthy';
  /** Whether a rollback of this host works. */
  isRollbackBroken = false;
  /** Called at the start of every method (a test flips another host's link from here). */
  onCall: (method: string) => void = () => {};
  /** Services restarting right now (the fleet records how many hosts were down at once). */
  constructor(
    readonly host: FleetHostConfig,
    private readonly fleet: { active: Set<string>; maxActive: number; awaitPeers: number },
  ) {}

  private enter(method: string): void {
    this.calls.push(method);
    this.onCall(method);
    if (this.reachability === 'down')
      throw createError('EHOSTUNREACHABLE', {
        host: this.host.name,
        address: this.host.address,
        port: this.host.port,
        reason: 'Connection timed out',
        connectTimeoutSeconds: 2,
      });
  }

  async check(): Promise<HostReachability> {
    this.calls.push('check');
    if (this.reachability === 'down')
      return {
        host: this.host.name,
        ok: false,
        checks: [{ name: 'host:ssh', ok: false, detail: `${this.host.address}:22: Connection timed out` }],
        code: 'EHOSTUNREACHABLE',
      };
    if (this.reachability === 'key-changed')
      return {
        host: this.host.name,
        ok: false,
        checks: [{ name: 'host:ssh', ok: false, detail: `the host key of ${this.host.name} has changed` }],
        code: 'EHOSTKEYCHANGED',
      };
    return {
      host: this.host.name,
      ok: true,
      checks: ['host:ssh', 'host:node', 'host:root', 'host:disk'].map((name) => ({
        name: name as HostReachability['checks'][number]['name'],
        ok: true,
        detail: 'ok',
      })),
      nodeVersion: 'v20.20.0',
      freeDiskMb: 5000,
    };
  }

  async stage(artifact: StageArtifact): Promise<void> {
    this.enter(`stage:${artifact.releaseId}`);
    this.releases.add(artifact.releaseId);
  }

  async activate(releaseId: string): Promise<HostActivation> {
    this.enter(`activate:${releaseId}`);
    return this.switchTo(releaseId, 'activate');
  }

  async rollback(toReleaseId?: string): Promise<HostActivation> {
    this.enter(`rollback:${toReleaseId ?? 'previous'}`);
    if (this.isRollbackBroken) throw new Error('the previous release did not start (injected)');
    return this.switchTo(toReleaseId ?? this.previous!, 'rollback');
  }

  private async switchTo(releaseId: string, action: 'activate' | 'rollback'): Promise<HostActivation> {
    const before = this.current;
    if (before === releaseId) return this.answer(action, releaseId, before, { isAlreadyActive: true });
    this.fleet.active.add(this.host.name);
    this.fleet.maxActive = Math.max(this.fleet.maxActive, this.fleet.active.size);
    // Restarting takes a while: give the rollout the chance to start other hosts meanwhile (bounded, no wall time).
    for (let i = 0; i < 2000 && this.fleet.active.size < this.fleet.awaitPeers; i++)
      await new Promise((r) => setImmediate(r));
    this.fleet.maxActive = Math.max(this.fleet.maxActive, this.fleet.active.size);
    this.fleet.active.delete(this.host.name);
    const outcome = action === 'activate' ? this.activationOutcome(releaseId) : 'healthy';
    if (outcome === 'switch-back')
      return this.answer(action, releaseId, before, {
        exitCode: 1,
        isActivated: false,
        failureReason: 'health check failed: 0 of 3 OK',
        switchBack: { releaseId: before!, ok: true, detail: `switched back to ${before}` },
      });
    this.previous = before;
    this.current = releaseId;
    if (outcome === 'stuck')
      return this.answer(action, releaseId, before, {
        exitCode: 4,
        isActivated: false,
        failureReason: 'health check failed',
        switchBack: { releaseId: before!, ok: false, detail: 'switch-back failed' },
      });
    return this.answer(action, releaseId, before, {});
  }

  private answer(
    action: 'activate' | 'rollback',
    releaseId: string,
    before: string | undefined,
    over: Partial<HostActivation>,
  ): HostActivation {
    const exitCode = over.exitCode ?? 0;
    return {
      host: this.host.name,
      exitCode,
      action,
      deployId: `${this.host.name}-op`,
      releaseId,
      ...(before ? { previousReleaseId: before } : {}),
      isAlreadyActive: false,
      isFirstActivation: before === undefined,
      isActivated: true,
      serving: { releaseId: this.current, isHealthy: exitCode !== 4, detail: `current → releases/${this.current}` },
      timeline: [],
      message: `${action} ${releaseId}: ${exitCode === 0 ? 'healthy' : 'failed'}`,
      ...over,
    };
  }

  async status(): Promise<HostStatus> {
    this.enter('status');
    return {
      host: this.host.name,
      root: this.host.root,
      hostname: this.host.name,
      ...(this.current ? { currentReleaseId: this.current } : {}),
      ...(this.previous ? { previousReleaseId: this.previous } : {}),
      releaseIds: [...this.releases].sort(),
      service: { driver: 'process', isRunning: this.current !== undefined, detail: 'running' },
      journal: [],
      health: { url: 'http://x/health', ok: true, status: 200 },
      serviceEnv: { isPresent: this.serviceEnv !== undefined, mode: '0600' },
    };
  }

  async writeServiceEnv(vars: Record<string, string>): Promise<void> {
    this.enter('service-env');
    this.serviceEnv = vars;
  }
}

export interface FleetFixture {
  root: string;
  environment: ResolvedEnvironment;
  clock: ManualClock;
  hosts: Map<string, MemoryHost>;
  host(name: string): MemoryHost;
  sent: NotificationInput[];
  database: FleetDatabase & { calls: string[]; pending: FleetMigration[] };
  signals: FleetSignalSource & { polls: number };
  /** The hosts restarting at the same time, at most; a restart waits (bounded) for `awaitPeers` to overlap. */
  concurrency: { active: Set<string>; maxActive: number; awaitPeers: number };
  artifact: string;
  releaseId: string;
  /** Per poll: the fleet's failure rate in % given what each host runs (default: 0 everywhere). */
  failurePercent: (runs: Map<string, string | undefined>) => number;
  /** Per poll: whether a host's service answers health (default: yes). */
  isHealthy: (name: string) => boolean;
  output: string[];
  run(over?: Partial<FleetRolloutOptions>): Promise<FleetRolloutResult>;
}

export async function createFleetFixture(
  t: { after: (fn: () => Promise<void>) => void },
  options: { hostCount?: number; waves?: (number | string)[]; maxUnavailable?: number; isFirstDeploy?: boolean } = {},
): Promise<FleetFixture> {
  const root = await createTempDir(t, 'dhash-fleet-');
  const names = Array.from({ length: options.hostCount ?? 3 }, (_, i) => `web-${i + 1}`);
  const config = environmentSchema.parse({
    root: 'controller',
    service: { host: '0.0.0.0', port: 8787 },
    target: {
      type: 'ssh',
      hosts: names.map((name, i) => ({ name, address: `10.88.${i}.2`, root: '/srv/dhash' })),
      waves: options.waves ?? [1, '100%'],
      bake: '4s',
      maxUnavailable: options.maxUnavailable ?? 0,
    },
    signals: { source: 'prometheus', url: 'http://127.0.0.1:9/', hostLabel: 'instance' },
    database: { engine: 'postgres' },
    deploy: { minFreeDiskMb: 1, healthyChecksRequired: 3, healthCheckIntervalMs: 200, healthTimeoutMs: 5000 },
  });
  const processEnv = {
    DHASH_DATABASE_URL: 'postgres://dhash:s3cret-pw@10.88.0.1:5432/dhash',
    DHASH_API_TOKENS: 'rollout:admin:rollout-token-123456,app:write:app-token-123456',
  };
  const environment = resolveEnvironmentConfig(root, 'production', config, processEnv);
  const { artifact, releaseId } = await createArtifact(root);
  const clock = createManualClock(START_MS);
  const concurrency = { active: new Set<string>(), maxActive: 0, awaitPeers: 1 };
  const hosts = new Map(
    config.target.type === 'ssh'
      ? config.target.hosts.map((h) => [h.name, new MemoryHost(h, concurrency)] as const)
      : [],
  );
  for (const h of hosts.values()) {
    if (options.isFirstDeploy) continue;
    h.releases.add(OLD_RELEASE);
    h.current = OLD_RELEASE;
    h.serviceEnv = {};
  }
  const sent: NotificationInput[] = [];
  const notifier = {
    send: async (n: NotificationInput) => {
      sent.push(n);
      return { id: `n${sent.length}`, event: n.event, severity: 'info', deliveries: [], outboxFiles: [] };
    },
  } as unknown as Notifier;
  const database = {
    description: 'postgres://dhash@10.88.0.1/dhash',
    calls: [] as string[],
    pending: [{ version: 3, name: 'add_notes', isBackwardCompatible: true, hasDown: true }] as FleetMigration[],
    async getPendingMigrations() {
      database.calls.push('pending');
      return { fromVersion: 2, toVersion: 2 + database.pending.length, pending: database.pending };
    },
    async backUp() {
      database.calls.push('backup');
      return { file: join(root, 'backups', 'dhash_20261128T010000000Z_production.zip'), detail: 'verified' };
    },
    async migrate() {
      database.calls.push('migrate');
      return { fromVersion: 2, toVersion: 2 + database.pending.length, applied: database.pending };
    },
    async close() {},
  };
  const fixture: FleetFixture = {
    root,
    environment,
    clock,
    hosts,
    host: (name) => hosts.get(name)!,
    sent,
    database,
    signals: undefined as unknown as FleetFixture['signals'],
    concurrency,
    artifact,
    releaseId,
    failurePercent: () => 0,
    isHealthy: () => true,
    output: [],
    async run(over = {}) {
      const promise = rollOutFleet({
        environment,
        release: artifact,
        isDryRun: false,
        force: false,
        clock,
        logger: createSilentLogger(),
        notifier,
        redact: createRedactor(processEnv),
        processEnv,
        onProgress: (line) => fixture.output.push(line),
        createHostOps: (h) => hosts.get(h.name)!,
        database,
        signals: fixture.signals,
        gates: getTestGates(),
        shouldWatch: false,
        ...over,
      });
      return driveClock(clock, promise);
    },
  };
  const signals = {
    polls: 0,
    async measure(query: { hosts: readonly FleetHostConfig[] }): Promise<FleetSignalValues> {
      signals.polls++;
      const runs = new Map([...hosts].map(([name, h]) => [name, h.current]));
      const percent = fixture.failurePercent(runs);
      const attempts = 100;
      return {
        hosts: query.hosts.map((h) => ({
          host: h.name,
          health: fixture.isHealthy(h.name)
            ? { ok: true, httpStatus: 200, latencyMs: 2 }
            : { ok: false, latencyMs: 1000, error: 'ETIMEDOUT' },
          p95: { p95Ms: 40, count: 50 },
        })),
        extraction: { attempts, failures: Math.round((attempts * percent) / 100) },
        queueLength: 3,
      };
    },
    async checkHealth(host: FleetHostConfig): Promise<HealthCheck> {
      const ok = fixture.isHealthy(host.name);
      return {
        at: new Date(clock.now()).toISOString(),
        ok,
        latencyMs: 1,
        ...(ok ? { status: 200 } : { error: 'ETIMEDOUT' }),
      };
    },
    async probe() {
      return { ok: true, detail: 'Prometheus answers' };
    },
  };
  fixture.signals = signals;
  return fixture;
}

/** Advances the manual clock to each pending sleep until the rollout settles. */
export async function driveClock<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let isDone = false;
  const markDone = () => {
    isDone = true;
  };
  promise.then(markDone, markDone);
  while (!isDone) {
    if (!(await clock.runNext())) await new Promise((r) => setImmediate(r));
  }
  return promise;
}

/** A real (tiny) release artifact: release.json whose content hash verifies, tarred, with its .sha256 beside it. */
async function createArtifact(root: string): Promise<{ artifact: string; releaseId: string }> {
  const releaseId = '20261128T005500000Z-0.2.0-new';
  const work = join(root, 'artifacts');
  const dir = join(work, releaseId);
  await mkdir(join(dir, 'dist'), { recursive: true });
  await writeFile(join(dir, 'dist', 'main.js'), 'export {};\n');
  const manifest = {
    releaseId,
    version: '0.2.0',
    gitSha: 'new',
    createdAt: new Date(START_MS - 300_000).toISOString(),
    contentSha256: await computeContentSha256(dir),
  };
  await writeFile(join(dir, 'release.json'), JSON.stringify(manifest, null, 2) + '\n');
  const artifact = join(work, `${releaseId}.tar.gz`);
  execFileSync('tar', ['-czf', artifact, '-C', work, releaseId]);
  const sha256 = createHash('sha256')
    .update(await readFile(artifact))
    .digest('hex');
  await writeFile(`${artifact}.sha256`, `${sha256}  ${releaseId}.tar.gz\n`);
  return { artifact, releaseId };
}
