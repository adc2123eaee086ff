// Times backup create / verify / restore of a ~1 GB SQLite database against `zip -1` + `sha256sum` on the same files.
// Usage: npm run bench:backup  (BENCH_DB_MB=1024 size of the database, BENCH_LEVELS=1,0 deflate levels to try, BENCH_KEEP=1 keeps the temp dir)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createBackup, extractBackup, verifyBackup } from '../src/rollout/backup/index.js';
import { resolveEnvironment } from '../src/rollout/config/environments.js';
import { createSystemClock } from '../src/rollout/core/clock.js';
import { createSilentLogger } from '../src/lib/logger.js';

const dbMb = Number(process.env.BENCH_DB_MB ?? 1024);
const levels = (process.env.BENCH_LEVELS ?? '1').split(',').map(Number);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

const root = await mkdtemp(join(tmpdir(), 'dhash-bench-backup-'));
try {
  await writeFile(join(root, 'environments.json'), JSON.stringify({ environments: { staging: { root: 'env', service: { port: 18788 } } } }));
  const env = await resolveEnvironment(root, 'staging', {});
  // A release with a node_modules-like tree of 2,000 small files.
  const release = join(env.releasesDir, 'r1');
  for (let d = 0; d < 100; d++) {
    const dir = join(release, 'node_modules', `pkg-${d}`, 'lib');
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 20; f++) await writeFile(join(dir, `m${f}.js`), `module.exports = function f${d}_${f}(x) { return x + ${d * f}; };\n`.repeat(60));
  }
  await writeFile(join(release, 'release.json'), JSON.stringify({ releaseId: 'r1', version: '0.0.0' }));
  await symlink('releases/r1', env.currentLink);
  await mkdir(env.sharedDir, { recursive: true });

  // ~dbMb of rows: 2 KB of random bytes (incompressible, like hashes/images) + 2 KB of repetitive text (compressible) each.
  const pool = Array.from({ length: 512 }, () => randomBytes(2048));
  const text = Buffer.from('{"path":"/library/images/item.png","hash":"a1b2c3d4e5f60718","decision":"review"}'.repeat(26).slice(0, 2048));
  const rows = Math.round((dbMb * 1024 * 1024) / 4200);
  const [, buildMs] = await time(() => {
    const db = new Database(env.databaseFile);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (payload) VALUES (?)');
    const insertMany = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(Buffer.concat([pool[(i * 7) % pool.length]!, text]));
    });
    for (let i = 0; i < rows; i += 20_000) insertMany(i, Math.min(rows, i + 20_000));
    db.close();
  });
  const dbBytes = (await stat(env.databaseFile)).size;
  console.log(`database: ${mb(dbBytes)} MB (${rows} rows) built in ${secs(buildMs)} s; release: 2,000 files`);

  const results: [string, number, string][] = [];
  const clock = createSystemClock();
  for (const level of levels) {
    const [made, createMs] = await time(() => createBackup(env, { clock, logger: createSilentLogger(), compressionLevel: level }));
    const [verified, verifyMs] = await time(() => verifyBackup(made.file, { projectRoot: root, expectedEnv: 'staging' }));
    if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified.problems)}`);
    const [, restoreMs] = await time(() => extractBackup(made.file, join(root, `restore-${level}`), { expectedEnv: 'staging', projectRoot: root }));
    results.push([`dhash create (snapshot + zip -${level} + read-back verify)`, createMs, `${mb(made.sizeBytes)} MB zip`]);
    results.push([`dhash verify (sha256 + every entry sha256 + CRC)`, verifyMs, '']);
    results.push([`dhash restore (sha256 + extract with checks)`, restoreMs, '']);
    await rm(join(root, `restore-${level}`), { recursive: true, force: true });
    await rm(made.file);
    await rm(made.sha256File);
  }

  // Baseline: the same files (raw db copy, which would not even be consistent on a live service).
  const [, zipMs] = await time(() => execFileSync('zip', ['-1', '-r', '-q', '-y', 'baseline.zip', 'env/releases/r1', 'env/shared/dhash.sqlite'], { cwd: root }));
  const [, sumMs] = await time(() => execFileSync('bash', ['-c', 'sha256sum baseline.zip > baseline.zip.sha256'], { cwd: root }));
  const [, checkMs] = await time(() => execFileSync('sha256sum', ['-c', '--quiet', 'baseline.zip.sha256'], { cwd: root }));
  const [, unzipMs] = await time(() => execFileSync('unzip', ['-q', 'baseline.zip', '-d', 'unzipped'], { cwd: root }));
  const baselineSize = (await stat(join(root, 'baseline.zip'))).size;
  results.push(['zip -1 + sha256sum (backup baseline)', zipMs + sumMs, `${mb(baselineSize)} MB zip (zip ${secs(zipMs)} s + sha256sum ${secs(sumMs)} s)`]);
  results.push(['sha256sum -c + unzip (restore baseline)', checkMs + unzipMs, `(sha256sum -c ${secs(checkMs)} s + unzip ${secs(unzipMs)} s)`]);

  console.log('');
  for (const [name, ms, note] of results) console.log(`${name.padEnd(58)} ${secs(ms).padStart(8)} s  ${note}`);
  const create = results.find(([n]) => n.startsWith('dhash create'))![1];
  const restore = results.find(([n]) => n.startsWith('dhash restore'))![1];
  console.log(`\nratio dhash create / (zip -1 + sha256sum): ${(create / (zipMs + sumMs)).toFixed(2)}×`);
  console.log(`ratio dhash restore / (sha256sum -c + unzip): ${(restore / (checkMs + unzipMs)).toFixed(2)}×`);
} finally {
  if (!process.env.BENCH_KEEP) await rm(root, { recursive: true, force: true });
}
