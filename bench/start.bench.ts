// Start-up: `dhash serve` from spawn to its first healthy /health, over a real SQLite library of 1M and 10M entries.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, closeDatabase } from '../src/service/store/database.js';
import { loadLibraryIndex, readLibraryHashHalves } from '../src/service/library/index.js';
import { getFreePort } from '../test/helpers/free-port.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const SIZES = (process.env.DHASH_START_SIZES ?? '1000000,10000000').split(',').map(Number);
const RUNS_AT_1M = 3;
/** Library files are kept between runs (building 10M rows takes a while); delete the folder to rebuild them. */
const CACHE_DIR = join(tmpdir(), 'dhash-bench-start');

/**
 * A migrated database with `count` random entries, generated inside SQLite (a recursive CTE), hash index built last.
 */
async function getLibraryFile(count: number): Promise<string> {
  const file = join(CACHE_DIR, `library-${count}.sqlite`);
  if (existsSync(file)) return file;
  await mkdir(CACHE_DIR, { recursive: true });
  const startMs = performance.now();
  const building = `${file}.building`;
  const db = openDatabase(building, { migrate: true });
  db.exec('DROP INDEX library_entries_hash');
  db.prepare(
    `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
     INSERT INTO library_entries (label, hash, source, created_at)
     SELECT 'image-' || x, lower(hex(randomblob(8))), 'bench', '2026-12-01T00:00:00.000Z' FROM n`,
  ).run(count);
  db.exec('CREATE INDEX library_entries_hash ON library_entries (hash)');
  closeDatabase(db);
  const { renameSync } = await import('node:fs');
  renameSync(building, file);
  console.log(
    `built ${file} (${count.toLocaleString('en-US')} entries) in ` +
      `${((performance.now() - startMs) / 1000).toFixed(1)} s`,
  );
  return file;
}

/** Spawns the built CLI and polls /health every 5 ms; resolves with the time to the first 200 and the RSS then. */
async function measureStart(dbFile: string): Promise<{ healthyMs: number; rssMb: number; cpuMs: number }> {
  const port = await getFreePort();
  const startMs = performance.now();
  const child = spawn(process.execPath, [MAIN, 'serve', '--db', dbFile, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DHASH_PORT: '' },
  });
  try {
    for (;;) {
      const isOk = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (isOk) break;
      if (child.exitCode !== null) throw new Error(`dhash serve exited with ${child.exitCode}`);
      if (performance.now() - startMs > 300_000) throw new Error('not healthy within 300 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const healthyMs = performance.now() - startMs;
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssMb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { healthyMs, rssMb, cpuMs: (Number(stat[11]) + Number(stat[12])) * 10 };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** The in-process split of the load: SQLite → typed arrays, then the index build. */
function measureLoadSteps(dbFile: string): { readMs: number; buildMs: number } {
  const db = openDatabase(dbFile);
  try {
    const readStart = performance.now();
    readLibraryHashHalves(db);
    const readMs = performance.now() - readStart;
    const loadStart = performance.now();
    loadLibraryIndex(db);
    return { readMs, buildMs: performance.now() - loadStart - readMs };
  } finally {
    closeDatabase(db);
  }
}

if (!existsSync(MAIN)) throw new Error(`No ${MAIN}: run \`npm run build\` first (the bench drives the built CLI).`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  `dhash start benchmark: spawn of \`dhash serve\` (dist/) to the first 200 from /health, ` +
    `${cpus().length} cores, load avg ${loadavg()[0].toFixed(1)} at start`,
);
const results = new Map<number, number>();
for (const size of SIZES) {
  const file = await getLibraryFile(size);
  const runs = [];
  for (let i = 0; i < (size <= 1_000_000 ? RUNS_AT_1M : 1); i++) runs.push(await measureStart(file));
  const steps = measureLoadSteps(file);
  const healthyMs = median(runs.map((r) => r.healthyMs));
  results.set(size, healthyMs);
  console.log(
    `${size.toLocaleString('en-US').padStart(10)} entries: healthy after ` +
      `${runs.map((r) => `${r.healthyMs.toFixed(0)} ms`).join(', ')} (median ${healthyMs.toFixed(0)} ms); ` +
      `service CPU ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms, RSS ` +
      `${median(runs.map((r) => r.rssMb)).toFixed(0)} MB; ` +
      `in-process: read ${steps.readMs.toFixed(0)} ms + index build ${steps.buildMs.toFixed(0)} ms; load ` +
      `avg ${loadavg()[0].toFixed(1)}`,
  );
}
if (results.has(10_000_000)) console.log(`info start_healthy_ms_10m ${results.get(10_000_000)!.toFixed(0)} ms`);
if (results.has(1_000_000)) console.log(`target start_healthy_ms_1m ${results.get(1_000_000)!.toFixed(0)} ms`);
