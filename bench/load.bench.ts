// Load: 1, 8, 64 and 1024 concurrent clients POSTing a ~240 KB
// JPEG to /v1/hash on a real `dhash serve` child on 127.0.0.1.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRandom } from '../test/helpers/images.js';
import { getFreePort } from '../test/helpers/free-port.js';

// DHASH_LOAD_MAIN runs another build (an A/B against a copy of dist/); DHASH_LOAD_NODE_ARGS adds node flags to the
// service, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (NODE_OPTIONS refuses --cpu-prof).
const MAIN = process.env.DHASH_LOAD_MAIN ?? fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const SERVICE_NODE_ARGS = (process.env.DHASH_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CONCURRENCIES = (process.env.DHASH_LOAD_CLIENTS ?? '1,8,64,1024').split(',').map(Number);
const PHASE_MS = Number(process.env.DHASH_LOAD_PHASE_MS ?? 10_000);
const RSS_SAMPLE_MS = 50;
const HEALTH_PROBE_MS = 250;
const IS_EXPECTING_CONTINUE = process.env.DHASH_LOAD_EXPECT_CONTINUE !== '0';

interface Phase {
  concurrency: number;
  elapsedMs: number;
  admitted: number[];
  shed: number;
  /** Sum of the Retry-After seconds of the 503s, for their mean. */
  retryAfterSumS: number;
  errors: Map<string, number>;
  peakRssMb: number;
  cpuMs: number;
  healthMaxMs: number;
}

/** A photo-like 1024×768 JPEG (smooth gradients plus noise) of about 240 KB. */
async function createLoadImage(): Promise<Buffer> {
  const width = 1024;
  const height = 768;
  const random = createRandom(240);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = (random() - 0.5) * 36;
      pixels[i] = clamp(128 + 100 * Math.sin(x / 90) + noise);
      pixels[i + 1] = clamp(120 + 90 * Math.cos(y / 70 + x / 200) + noise);
      pixels[i + 2] = clamp((x + y) / 7 + noise);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function readProcStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** utime + stime of a process, in ms (clock ticks of 10 ms on Linux). */
function readProcessCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** With `Expect: 100-continue` (curl's habit for big bodies) the body goes out only once the service asks for it. */
function post(agent: Agent, url: string, body: Buffer): Promise<{ status: number; retryAfterS: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'image/jpeg', 'content-length': body.length };
    if (IS_EXPECTING_CONTINUE) headers.expect = '100-continue';
    const req = request(`${url}/v1/hash`, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, retryAfterS: Number(res.headers['retry-after'] ?? 1) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (IS_EXPECTING_CONTINUE) {
      req.on('continue', () => req.end(body));
      req.flushHeaders();
    } else req.end(body);
  });
}

async function runPhase(url: string, pid: number, image: Buffer, concurrency: number): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const phase: Phase = {
    concurrency,
    elapsedMs: 0,
    admitted: [],
    shed: 0,
    retryAfterSumS: 0,
    errors: new Map(),
    peakRssMb: 0,
    cpuMs: 0,
    healthMaxMs: 0,
  };
  const startMs = performance.now();
  const deadlineMs = startMs + PHASE_MS;
  const cpuStart = readProcessCpuMs(pid);
  const sampler = setInterval(
    () => (phase.peakRssMb = Math.max(phase.peakRssMb, readProcStatusKb(pid, 'VmRSS') / 1024)),
    RSS_SAMPLE_MS,
  );
  let isProbing = true;
  const prober = (async () => {
    while (isProbing) {
      const probeStart = performance.now();
      const response = await fetch(`${url}/health`).catch(() => undefined);
      await response?.arrayBuffer();
      phase.healthMaxMs = Math.max(phase.healthMaxMs, performance.now() - probeStart);
      await sleep(HEALTH_PROBE_MS);
    }
  })();
  const random = createRandom(concurrency);
  const client = async () => {
    while (performance.now() < deadlineMs) {
      const sentMs = performance.now();
      try {
        const { status, retryAfterS } = await post(agent, url, image);
        if (status === 200) phase.admitted.push(performance.now() - sentMs);
        else if (status === 503) {
          phase.shed++;
          phase.retryAfterSumS += retryAfterS;
          // A well-behaved client honours Retry-After (jittered so the retries do not arrive in lockstep).
          await sleep(Math.min(retryAfterS * 1000 * (0.5 + random()), deadlineMs - performance.now()));
        } else count(phase.errors, `HTTP ${status}`);
      } catch (error) {
        count(phase.errors, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  phase.elapsedMs = performance.now() - startMs;
  phase.cpuMs = readProcessCpuMs(pid) - cpuStart;
  isProbing = false;
  await prober;
  clearInterval(sampler);
  agent.destroy();
  return phase;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

if (!existsSync(MAIN)) throw new Error(`No ${MAIN}: run \`npm run build\` first (the bench drives the built CLI).`);
const image = await createLoadImage();
const dir = await mkdtemp(join(tmpdir(), 'dhash-load-'));
const SERVICE_LOG = join(dir, 'service.log');
const port = await getFreePort();
const child = spawn(
  process.execPath,
  [...SERVICE_NODE_ARGS, MAIN, 'serve', '--migrate', '--db', join(dir, 'load.sqlite'), '--port', String(port)],
  {
    cwd: dir,
    stdio: ['ignore', openSync(SERVICE_LOG, 'w'), 'inherit'],
    env: { ...process.env, DHASH_PORT: '' },
  },
);
const url = `http://127.0.0.1:${port}`;
let logOffset = 0;
/** The service's own view of the phase, from its request log lines: time from parsed headers to answer. */
function readServiceSide(): { okMs: number[]; healthMaxMs: number } {
  const text = readFileSync(SERVICE_LOG, 'utf8');
  const okMs: number[] = [];
  let healthMaxMs = 0;
  for (const line of text.slice(logOffset).split('\n')) {
    if (!line.includes('"request completed"')) continue;
    const entry = JSON.parse(line) as { url: string; statusCode: number; durationMs: number };
    if (entry.url === '/health') healthMaxMs = Math.max(healthMaxMs, entry.durationMs);
    else if (entry.statusCode === 200) okMs.push(entry.durationMs);
  }
  logOffset = text.length;
  return { okMs, healthMaxMs };
}
try {
  for (
    let waited = 0;
    !(await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    ));
    waited += 100
  ) {
    if (waited > 30_000) throw new Error('the service did not become healthy within 30 s');
    await sleep(100);
  }
  const idleRssMb = readProcStatusKb(child.pid!, 'VmRSS') / 1024;
  console.log(
    `dhash load benchmark: POST /v1/hash of a ${(image.length / 1024).toFixed(0)} KB 1024×768 JPEG, ` +
      `${PHASE_MS / 1000} s per concurrency, dhash serve from dist/ (default admission limits), service ` +
      `idle RSS ${idleRssMb.toFixed(0)} MB`,
  );
  const bodyMode = IS_EXPECTING_CONTINUE
    ? 'send Expect: 100-continue'
    : 'send bodies at once (DHASH_LOAD_EXPECT_CONTINUE=0)';
  console.log(
    `clients honour Retry-After on 503 (jittered ×0.5–1.5) and ${bodyMode}; ` +
      `throughput counts admitted (200) answers only`,
  );
  const header = [
    'clients',
    'ok/s',
    'ok/cpu-s',
    'p50',
    'p95',
    'p99',
    'svc p95',
    'shed',
    'Retry-After',
    'errors',
    'peak RSS',
    '/health max',
    'svc /health',
    'client lag p99',
    'load avg',
  ];
  const rows: string[][] = [];
  const phases: Phase[] = [];
  for (const concurrency of CONCURRENCIES) {
    readServiceSide();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const phase = await runPhase(url, child.pid!, image, concurrency);
    lag.disable();
    phases.push(phase);
    const serviceSide = readServiceSide();
    const answered = phase.admitted.length + phase.shed;
    rows.push([
      String(concurrency),
      (phase.admitted.length / (phase.elapsedMs / 1000)).toFixed(1),
      (phase.admitted.length / (phase.cpuMs / 1000)).toFixed(1),
      `${percentile(phase.admitted, 0.5).toFixed(0)} ms`,
      `${percentile(phase.admitted, 0.95).toFixed(0)} ms`,
      `${percentile(phase.admitted, 0.99).toFixed(0)} ms`,
      `${percentile(serviceSide.okMs, 0.95).toFixed(0)} ms`,
      `${answered === 0 ? 0 : ((100 * phase.shed) / answered).toFixed(1)} %`,
      phase.shed === 0 ? '-' : `${(phase.retryAfterSumS / phase.shed).toFixed(1)} s`,
      phase.errors.size === 0 ? 'none' : [...phase.errors].map(([k, v]) => `${k}×${v}`).join(' '),
      `${phase.peakRssMb.toFixed(0)} MB`,
      `${phase.healthMaxMs.toFixed(0)} ms`,
      `${serviceSide.healthMaxMs.toFixed(0)} ms`,
      `${(lag.percentile(99) / 1e6).toFixed(0)} ms`,
      loadavg()[0].toFixed(1),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(
    'p50/p95/p99 and /health max as the clients saw them; svc columns from the service log (headers parsed ' +
      '→ answer); client lag: the bench process event loop',
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const at8 = phases.find((p) => p.concurrency === 8) ?? phases[0];
  const at1024 = phases.find((p) => p.concurrency === 1024) ?? phases[phases.length - 1];
  const rate = (p: Phase) => p.admitted.length / (p.elapsedMs / 1000);
  const cpuRate = (p: Phase) => p.admitted.length / (p.cpuMs / 1000);
  const otherErrors = [...at1024.errors].reduce((sum, [, n]) => sum + n, 0);
  const peakRssMb = (readProcStatusKb(child.pid!, 'VmHWM') / 1024).toFixed(0);
  const loadAvg = loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');
  console.log(
    `service VmHWM over the whole run: ${peakRssMb} MB; ` +
      `${cpus().length} cores shared with other work (load avg ${loadAvg})`,
  );
  console.log(
    `targets at 1024 clients: p95 <= 1000 ms; peak RSS <= 300 MB; no error but 503 ` +
      `(${otherErrors === 0 ? 'met' : `${otherErrors} other errors`}); ` +
      `throughput vs 8 clients ${(rate(at1024) / rate(at8)).toFixed(2)} (per service CPU-second ` +
      `${(cpuRate(at1024) / cpuRate(at8)).toFixed(2)}), target >= 0.90`,
  );
  console.log(`target load_throughput_ratio_1024_vs_8 ${(rate(at1024) / rate(at8)).toFixed(2)} x`);
  console.log(`target load_p95_ms_1024 ${percentile(at1024.admitted, 0.95).toFixed(0)} ms`);
  console.log(`target load_peak_rss_mb_1024 ${at1024.peakRssMb.toFixed(0)} MB`);
} finally {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (process.env.DHASH_LOAD_KEEP_LOG) await copyFile(SERVICE_LOG, process.env.DHASH_LOAD_KEEP_LOG);
  await rm(dir, { recursive: true, force: true });
}
