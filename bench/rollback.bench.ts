// Times "violation detected → third OK health check of the previous release" for
// switch-back and restore-with-carry-forward, beside today's restore (verify twice,
// no carry-forward), with a 1,000,000-entry library and with a ~1 GB database.
// Usage: npm run bench:rollback  (BENCH_ENTRIES=1000000, BENCH_DB_MB=1024
// for the big case, BENCH_ROUNDS=2, BENCH_KEEP=1 keeps the temp dir)
// The host is shared and the page cache favours whatever runs
// later, so the two restores alternate order every round (AB, BA).
// Real release directories, a real service process (process
// driver), real backups; the health interval is the default 1 s.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createBackup, verifyBackup } from '../src/rollout/backup/index.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../src/rollout/config/environments.js';
import { createSystemClock } from '../src/lib/clock.js';
import type { GateResult } from '../src/rollout/core/gates.js';
import { computeContentSha256 } from '../src/rollout/release/content-hash.js';
import { buildRelease } from '../src/rollout/release/build-release.js';
import { switchCurrentRelease } from '../src/rollout/release/release-dirs.js';
import { createTargetDriver } from '../src/rollout/target/index.js';
import { waitForHealthy } from '../src/rollout/checks/health.js';
import { performAutoRollback, type AutoRollbackDeps } from '../src/rollout/monitor/auto-rollback.js';
import { createRollbackDeps } from '../src/rollout/monitor/rollback-deps.js';
import { rollbackFromBackup } from '../src/rollout/rollback/rollback-from-backup.js';
import { appendJournal } from '../src/rollout/state/journal.js';
import type { Notifier } from '../src/rollout/notify/index.js';
import { applyPendingMigrations } from '../src/service/store/index.js';
import { createSilentLogger } from '../src/lib/logger.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const entries = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const bigDbMb = Number(process.env.BENCH_DB_MB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const clock = createSystemClock();
const logger = createSilentLogger();
const notifier = {
  send: async () => ({ id: 'bench', event: 'rollback-start', severity: 'info', deliveries: [], outboxFiles: [] }),
} as unknown as Notifier;
const trigger = {
  name: 'health',
  value: 3,
  threshold: 2,
  unit: 'consecutive',
  verdict: 'violated',
  action: 'rollback',
} as GateResult;
const secs = (ms: number) => (ms / 1000).toFixed(2);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

const root = await mkdtemp(join(tmpdir(), 'dhash-bench-rollback-'));
let stopService: () => Promise<void> = async () => {};
const removeRoot = () => {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void stopService().finally(() => (removeRoot(), process.exit(130))));

/** Library rows plus incompressible filler blobs up to `fillerMb`, in one transaction each: seconds, not minutes. */
function createDatabase(file: string, fillerMb: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  applyPendingMigrations(db);
  const insert = db.prepare(
    "INSERT INTO library_entries (label, hash, source, created_at) VALUES (?, ?, 'bench', '2026-12-01T00:00:00.000Z')",
  );
  const bytes = randomBytes(8 * entries);
  db.transaction(() => {
    for (let i = 0; i < entries; i++) insert.run(`entry ${i}`, bytes.subarray(i * 8, i * 8 + 8).toString('hex'));
  })();
  if (fillerMb > 0) {
    db.exec('CREATE TABLE bench_filler (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
    const pool = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    const add = db.prepare('INSERT INTO bench_filler (payload) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < fillerMb * 16; i++) add.run(pool[i % pool.length]);
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** A second release: a copy of the first with one more file and its own content hash. */
async function createVariant(baseDir: string, releasesDir: string): Promise<string> {
  const base = JSON.parse(await readFile(join(baseDir, 'release.json'), 'utf8')) as {
    releaseId: string;
    createdAt: string;
  };
  const releaseId = base.releaseId.replace(/-[^-]+$/, '-variantb');
  const dir = join(releasesDir, releaseId);
  execFileSync('cp', ['-a', baseDir, dir]);
  await writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n');
  await writeFile(
    join(dir, 'release.json'),
    JSON.stringify({ ...base, releaseId, contentSha256: await computeContentSha256(dir) }, null, 2),
  );
  return releaseId;
}

async function startServing(environment: ResolvedEnvironment, releaseId: string): Promise<void> {
  await switchCurrentRelease(environment, releaseId);
  const driver = createTargetDriver(environment, { clock, logger });
  await driver.restart();
  const health = await waitForHealthy(environment.healthUrl, {
    consecutiveOk: 1,
    intervalMs: 200,
    timeoutMs: 120_000,
    clock,
  });
  if (!health.ok) throw new Error(`release ${releaseId} did not become healthy: ${health.reason}`);
}

/** The deploy of B over A as deploy.ts journals it (no migration applied), so the monitor's deps find the facts. */
async function journalDeploy(environment: ResolvedEnvironment, a: string, b: string, n: number): Promise<string> {
  const deployId = `${environment.name}-bench-${n}-${Date.now()}`;
  const time = new Date(clock.now()).toISOString();
  await appendJournal(environment, {
    time,
    deployId,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: b,
    previousReleaseId: a,
  });
  await appendJournal(environment, {
    time,
    deployId,
    kind: 'deploy',
    step: 'deploy:rollback-strategy',
    status: 'succeeded',
    appliedMigrations: [],
  });
  return deployId;
}

/** Users keep writing after the deploy: what switch-back keeps and carry-forward re-applies. */
async function writeAsUsers(environment: ResolvedEnvironment, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const hash = randomBytes(8).toString('hex');
    const r = await fetch(`${environment.baseUrl}/v1/library`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: `after ${i}`, hash }),
    });
    if (r.status !== 201) throw new Error(`POST /v1/library: ${r.status}`);
  }
}

async function timeAutoRollback(
  environment: ResolvedEnvironment,
  deployId: string,
  releaseId: string,
  backupFile: string,
  deps: Partial<AutoRollbackDeps> = {},
): Promise<number> {
  const detectedAtMs = clock.now();
  const result = await performAutoRollback({
    env: environment.name,
    deployId,
    releaseId,
    trigger,
    backupFile,
    monitorLogs: [],
    clock,
    logger,
    notifier,
    detectedAtMs,
    deps: { ...createRollbackDeps({ environment, clock, logger, notifier }), ...deps },
  });
  if (result.status !== 'succeeded' || !result.thirdOkHealthAt)
    throw new Error(`rollback ${result.status}: ${result.reason}`);
  // Where the time went: each finished step's duration, from the incident's timeline.
  const incident = JSON.parse(
    await readFile(join(environment.paths.root, 'incidents', `${result.incidentId}.json`), 'utf8'),
  ) as { timeline: { time: string; step: string; status: string }[] };
  const started = new Map<string, number>();
  const parts: string[] = [];
  for (const e of incident.timeline) {
    if (e.status === 'started') started.set(e.step, Date.parse(e.time));
    else if (started.has(e.step))
      parts.push(`${e.step.replace('rollback:', '')} ${secs(Date.parse(e.time) - started.get(e.step)!)}`);
  }
  console.log(`    ${result.strategy}: ${parts.join(', ')}`);
  return Date.parse(result.thirdOkHealthAt) - detectedAtMs;
}

/**
 * Today's path before issue 9: the monitor's checksum+manifest check, then
 * the manual rollback's full verify, snapshot, restore, no carry-forward.
 */
async function timeTodaysRestore(environment: ResolvedEnvironment, backupFile: string): Promise<number> {
  const detectedAtMs = clock.now();
  const full = await verifyBackup(backupFile, { expectedEnv: environment.name, projectRoot: environment.paths.root });
  if (!full.ok) throw new Error('backup did not verify');
  const result = await rollbackFromBackup({
    environment,
    backupFile,
    force: true,
    isDryRun: false,
    clock,
    logger,
    reason: 'bench',
  });
  const checks = result.healthChecks?.checks ?? [];
  let streak = 0;
  const third = checks.find((c) => (streak = c.ok ? streak + 1 : 0) === 3);
  if (!result.ok || !third) throw new Error(`today's restore failed: ${result.message}`);
  return Date.parse(third.at) - detectedAtMs;
}

async function runCase(name: string, fillerMb: number, releaseDir: string): Promise<Record<string, number>> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const port = 19000 + Math.floor(Math.random() * 2000);
  await writeFile(
    join(dir, 'environments.json'),
    JSON.stringify({
      environments: {
        local: { root: '.dhash/local', service: { host: '127.0.0.1', port }, target: { type: 'process' } },
      },
    }),
  );
  const environment = await resolveEnvironment(dir, 'local', {});
  await mkdir(environment.releasesDir, { recursive: true });
  const a = JSON.parse(await readFile(join(releaseDir, 'release.json'), 'utf8')).releaseId as string;
  execFileSync('cp', ['-a', releaseDir, join(environment.releasesDir, a)]);
  const b = await createVariant(join(environment.releasesDir, a), environment.releasesDir);
  await mkdir(environment.sharedDir, { recursive: true });
  const t0 = clock.now();
  createDatabase(environment.databaseFile, fillerMb);
  const dbBytes = (await stat(environment.databaseFile)).size;
  console.log(
    `${name}: database ${mb(dbBytes)} MB (${entries} library ` +
      `entries${fillerMb ? ` + ${fillerMb} MB of blobs` : ''}) built in ${secs(clock.now() - t0)} s`,
  );
  stopService = () => createTargetDriver(environment, { clock, logger }).stop();

  await switchCurrentRelease(environment, a);
  const t1 = clock.now();
  const backup = await createBackup(environment, { clock, logger, reason: 'pre-deploy' });
  console.log(`${name}: pre-deploy backup ${mb(backup.sizeBytes)} MB in ${secs(clock.now() - t1)} s`);
  const out: Record<string, number> = {};
  let n = 0;
  const deployB = async () => {
    const deployId = await journalDeploy(environment, a, b, n++);
    await startServing(environment, b);
    await writeAsUsers(environment, 20);
    return deployId;
  };
  const noDown = {
    getDeployFacts: async () => ({
      previousReleaseId: a,
      appliedMigrations: [{ version: 99, name: 'bench_no_down', hasDown: false }],
    }),
  };
  const samples = { switchback: [] as number[], restoreCarry: [] as number[], today: [] as number[] };
  const runRestoreCarry = async () =>
    samples.restoreCarry.push(await timeAutoRollback(environment, await deployB(), b, backup.file, noDown));
  const runToday = async () => (await deployB(), samples.today.push(await timeTodaysRestore(environment, backup.file)));
  for (let round = 0; round < rounds; round++) {
    samples.switchback.push(await timeAutoRollback(environment, await deployB(), b, backup.file));
    for (const run of round % 2 === 0 ? [runToday, runRestoreCarry] : [runRestoreCarry, runToday]) await run();
    console.log(
      `${name} round ${round + 1}: switch-back ${secs(samples.switchback.at(-1)!)} s, restore + ` +
        `carry-forward ${secs(samples.restoreCarry.at(-1)!)} s, today's restore ` +
        `${secs(samples.today.at(-1)!)} s`,
    );
  }
  out.switchback = mean(samples.switchback);
  out.restoreCarry = mean(samples.restoreCarry);
  out.today = mean(samples.today);
  await stopService();
  await appendFile(join(root, 'done.txt'), `${name}\n`);
  return out;
}

try {
  const release = await buildRelease({ projectRoot: REPO_ROOT, outDir: join(root, 'artifacts'), clock });
  const lib = await runCase('library_1m', 0, release.dir);
  const big = await runCase('db_1gb', Math.max(0, bigDbMb - 100), release.dir);
  console.log(
    `\nviolation detected → third OK health check of the previous release (health interval 1 s; mean of ` +
      `${rounds} round(s)):`,
  );
  for (const [label, r] of [
    ['1M-entry library', lib],
    ['~1 GB database', big],
  ] as const) {
    console.log(
      `  ${label.padEnd(17)} switch-back ${secs(r.switchback)} s | restore+carry-forward ` +
        `${secs(r.restoreCarry)} s | today's restore ${secs(r.today)} s`,
    );
    console.log(
      `  ${''.padEnd(17)} ratios: switch-back / today ${(r.switchback / r.today).toFixed(2)}×, ` +
        `restore+carry-forward / today ${(r.restoreCarry / r.today).toFixed(2)}×`,
    );
  }
  console.log(`target rollback_switchback_s_1m ${secs(lib.switchback)} s`);
  console.log(`target rollback_switchback_s_1gb ${secs(big.switchback)} s`);
  console.log(`target rollback_restore_carry_forward_vs_today_1m ${(lib.restoreCarry / lib.today).toFixed(2)} ratio`);
  console.log(`target rollback_restore_carry_forward_vs_today_1gb ${(big.restoreCarry / big.today).toFixed(2)} ratio`);
} finally {
  await stopService().catch(() => {});
  removeRoot();
}
