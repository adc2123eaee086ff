// Times backup create / verify / restore of a ~1.1 GB SQLite database against `zip -1` + `sha256sum` on the same files.
// Usage: npm run bench:backup  (BENCH_DB_MB=1050 size of the database in MiB
// (1.1 GB), BENCH_ROUNDS=3 alternating rounds, BENCH_KEEP=1 keeps the temp dir)
// The host is shared, so ours and the baseline run alternately
// (ABAB, the order flipped every round) and medians are compared.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createBackup, extractBackup, verifyBackup, type CreatedBackup } from '../src/rollout/backup/index.js';
import { resolveEnvironment } from '../src/rollout/config/environments.js';
import { createSystemClock } from '../src/lib/clock.js';
import { createSilentLogger } from '../src/lib/logger.js';

const dbMb = Number(process.env.BENCH_DB_MB ?? 1050);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const root = await mkdtemp(join(tmpdir(), 'dhash-bench-backup-'));
const removeRoot = () => {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
};
// Each run leaves several 1 GB files behind it: never on Ctrl-C either.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    removeRoot();
    process.exit(130);
  });
}

/** A release with a node_modules-like tree of 2,000 small files, made current. */
async function createRelease(releasesDir: string, currentLink: string): Promise<void> {
  const release = join(releasesDir, 'r1');
  for (let d = 0; d < 100; d++) {
    const dir = join(release, 'node_modules', `pkg-${d}`, 'lib');
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 20; f++)
      await writeFile(
        join(dir, `m${f}.js`),
        `module.exports = function f${d}_${f}(x) { return x + ${d * f}; };\n`.repeat(60),
      );
  }
  await writeFile(join(release, 'release.json'), JSON.stringify({ releaseId: 'r1', version: '0.0.0' }));
  await symlink('releases/r1', currentLink);
}

/**
 * ~dbMb of rows in one transaction: 2 KB of random bytes
 * (incompressible, like hashes/images) + 2 KB of repetitive text each.
 */
function createDatabase(file: string): number {
  const pool = Array.from({ length: 512 }, () => randomBytes(2048));
  const text = Buffer.from(
    '{"path":"/library/images/item.png","hash":"a1b2c3d4e5f60718","decision":"review"}'.repeat(26).slice(0, 2048),
  );
  // 4,608 bytes of file per row: 4 KB of payload plus SQLite's overflow pages and b-tree (measured).
  const rows = Math.round((dbMb * 1024 * 1024) / 4608);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO rows (payload) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(Buffer.concat([pool[(i * 7) % pool.length]!, text]));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return rows;
}

const sh = (script: string) =>
  execFileSync('bash', ['-c', script], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

try {
  const free = await statfs(root);
  const freeBytes = free.bavail * free.bsize;
  // Database, snapshot, our zip, the baseline zip and a restored copy exist at once.
  const neededBytes = 5 * dbMb * 1024 * 1024;
  if (freeBytes < neededBytes)
    throw new Error(`bench:backup needs ${mb(neededBytes)} MB free in ${tmpdir()}, has ${mb(freeBytes)} MB`);

  await writeFile(
    join(root, 'environments.json'),
    JSON.stringify({ environments: { staging: { root: 'env', service: { port: 18788 } } } }),
  );
  const environment = await resolveEnvironment(root, 'staging', {});
  await createRelease(environment.releasesDir, environment.currentLink);
  await mkdir(environment.sharedDir, { recursive: true });
  let rows = 0;
  const buildMs = await time(() => (rows = createDatabase(environment.databaseFile)));
  const dbBytes = (await stat(environment.databaseFile)).size;
  console.log(
    `database: ${mb(dbBytes)} MB (${rows} rows) built in ${secs(buildMs)} s; release: 2,000 files; ` +
      `${rounds} alternating rounds`,
  );

  const clock = createSystemClock();
  const logger = createSilentLogger();
  const samples = { create: [[], []], verify: [[], []], restore: [[], []] } as Record<
    'create' | 'verify' | 'restore',
    [number[], number[]]
  >;
  let zipBytes = 0;
  let baselineZipBytes = 0;
  for (let round = 0; round < rounds; round++) {
    const isOursFirst = round % 2 === 0;
    let made: CreatedBackup | null = null;
    const ours = {
      create: async () => {
        made = await createBackup(environment, { clock, logger, compressionLevel: 1 });
        zipBytes = made.sizeBytes;
      },
      verify: async () => {
        const verified = await verifyBackup(made!.file, { projectRoot: root, expectedEnv: 'staging' });
        if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified.problems)}`);
      },
      restore: () => extractBackup(made!.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    };
    // The same files (a raw copy of the database, which would not even be consistent on a live service).
    const baseline = {
      create: () =>
        sh(
          'zip -1 -r -q -y baseline.zip env/releases/r1 env/shared/dhash.sqlite && sha256sum baseline.zip ' +
            '> baseline.zip.sha256',
        ),
      verify: () => sh('sha256sum -c --quiet baseline.zip.sha256 && unzip -tq baseline.zip > /dev/null'),
      restore: () => sh('sha256sum -c --quiet baseline.zip.sha256 && unzip -q baseline.zip -d unzipped'),
    };
    for (const op of ['create', 'verify', 'restore'] as const) {
      const order = isOursFirst ? [0, 1] : [1, 0];
      for (const which of order) samples[op][which]!.push(await time(which === 0 ? ours[op] : baseline[op]));
    }
    baselineZipBytes = (await stat(join(root, 'baseline.zip'))).size;
    const done = made as CreatedBackup | null;
    await Promise.all([
      rm(join(root, 'restore'), { recursive: true, force: true }),
      rm(join(root, 'unzipped'), { recursive: true, force: true }),
      rm(join(root, 'baseline.zip'), { force: true }),
      rm(join(root, 'baseline.zip.sha256'), { force: true }),
      done && rm(done.file),
      done && rm(done.sha256File),
    ]);
    const report = (op: 'create' | 'verify' | 'restore') => {
      const [a, b] = [samples[op][0].at(-1)!, samples[op][1].at(-1)!];
      return `${op} ${secs(a)} vs ${secs(b)} s (${(a / b).toFixed(2)}×)`;
    };
    console.log(
      `round ${round + 1} (${isOursFirst ? 'dhash' : 'baseline'} first): ${report('create')}, ` +
        `${report('verify')}, ${report('restore')}`,
    );
  }

  const lines: [string, string, 'create' | 'verify' | 'restore', string][] = [
    ['create', 'snapshot + chunked deflate-1 zip + read-back CRC', 'create', 'zip -1 + sha256sum'],
    ['verify', 'sha256 + every entry sha256 + CRC-32', 'verify', 'sha256sum -c + unzip -t'],
    ['restore', 'sha256 + extract with every check', 'restore', 'sha256sum -c + unzip'],
  ];
  console.log('');
  console.log(
    `${'operation'.padEnd(10)} ${'dhash (median)'.padStart(15)} ${'baseline (median)'.padStart(18)} ` +
      `${'ratio'.padStart(7)}  what`,
  );
  // The ratio is the median of each round's ours/baseline: the two ran back to back, under about the same load.
  const ratios: Record<string, number> = {};
  for (const [name, ours, op, base] of lines) {
    const [a, b] = [median(samples[op][0]), median(samples[op][1])];
    ratios[op] = median(samples[op][0].map((ms, i) => ms / samples[op][1][i]!));
    console.log(
      `${name.padEnd(10)} ${`${secs(a)} s`.padStart(15)} ${`${secs(b)} s`.padStart(18)} ` +
        `${ratios[op]!.toFixed(2).padStart(6)}×  ${ours} vs ${base}`,
    );
  }
  console.log(`zip size: dhash ${mb(zipBytes)} MB, baseline ${mb(baselineZipBytes)} MB`);
  console.log('');
  console.log(`target backup_create_ratio ${ratios.create!.toFixed(2)} x`);
  console.log(`target backup_restore_ratio ${ratios.restore!.toFixed(2)} x`);
  console.log(`target backup_verify_ratio ${ratios.verify!.toFixed(2)} x`);
} finally {
  removeRoot();
}
