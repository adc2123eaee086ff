import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock, createSystemClock } from '../../../src/lib/clock.js';
import { createServiceSource } from '../../../src/rollout/signals/service/service-source.js';
import {
  buildPromQueries,
  createPrometheusSource,
  queryPromScalar,
} from '../../../src/rollout/signals/prometheus/prometheus-source.js';
import { createHostSource } from '../../../src/rollout/signals/host/host-source.js';
import { createFixtureImage } from '../../helpers/images.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { startDistService, startPrometheus, waitFor } from '../../helpers/processes.js';
import { writeFile } from 'node:fs/promises';
import { getFreePort } from '../../helpers/free-port.js';
import { join } from 'node:path';

const clock = createSystemClock();
const windows = { extractionMs: 600_000, p95Ms: 900_000 };
/** How many samples Prometheus holds of the success counter in the 10-minute extraction window. */
const SAMPLE_COUNT = 'count_over_time(dhash_extractions_total{job="dhash",outcome="success"}[10m])';

async function driveTraffic(url: string, good: number, bad: number): Promise<void> {
  const png = await createFixtureImage({ kind: 'gradient', width: 64, height: 48, seed: 1, format: 'png' });
  for (let i = 0; i < good; i++) {
    const r = await fetch(`${url}/v1/hash`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
    assert.equal(r.status, 200);
  }
  for (let i = 0; i < bad; i++) {
    const r = await fetch(`${url}/v1/hash`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: Buffer.from('not an image at all'),
    });
    assert.ok(r.status >= 400 && r.status < 500, `bad input answered ${r.status}`);
  }
}

test('the service and prometheus sources read the same real service; host readings come from /proc', async (t) => {
  const dir = await createTempDir(t, 'dhash-signals-');
  const svc = await startDistService(t, dir);
  const prom = await startPrometheus(t, dir, svc.port);
  const service = createServiceSource({ healthUrl: `${svc.url}/health`, metricsUrl: `${svc.url}/metrics`, clock });
  const before = await service.measure({ windows, timeoutMs: 2000 });
  assert.equal(before.phase, 'ok');
  // Prometheus must have a sample from before the traffic, or increase() has no baseline.
  // Two zero samples of the counter: increase() then starts at zero and extrapolates nothing before the traffic.
  await waitFor('a first scrape', async () => (await queryPromScalar(prom.url, 'up{job="dhash"}', 2000)) === 1, 30_000);
  await waitFor(
    'two baseline samples',
    async () => ((await queryPromScalar(prom.url, SAMPLE_COUNT, 2000)) ?? 0) >= 2,
    30_000,
  );
  await driveTraffic(svc.url, 40, 4);

  const after = await service.measure({ windows, timeoutMs: 2000 });
  assert.equal(after.phase, 'ok');
  assert.deepEqual(after.value.health.ok, true);
  assert.equal(after.value.health.httpStatus, 200);
  const m = after.value.metrics;
  assert.equal(m?.kind, 'cumulative');
  if (m?.kind !== 'cumulative') return;
  assert.equal(m.extractionSuccess, 40);
  assert.equal(m.extractionFailure, 4);
  assert.equal(m.queueLength, 0);
  assert.equal(m.hashBuckets.Infinity, 40);
  assert.ok('2' in m.hashBuckets, 'the histogram has a bucket at exactly le="2"');

  const source = createPrometheusSource({
    url: prom.url,
    selector: 'job="dhash"',
    healthUrl: `${svc.url}/health`,
    clock,
  });
  // Wait until Prometheus has scraped the post-traffic counters; increase() extrapolates, so compare with tolerance.
  await waitFor(
    'Prometheus to see the traffic',
    async () => {
      const v = await queryPromScalar(prom.url, 'sum(dhash_extractions_total{job="dhash"})', 2000);
      return v === 44;
    },
    30_000,
  );
  // increase() extrapolates past the last sample by up to 1.1 scrape intervals: with 5 samples (4 intervals) that is
  // at most 44 × 5.1 / 4 ≈ 56 attempts, inside the bounds asserted below.
  await waitFor(
    'five samples of the counter',
    async () => ((await queryPromScalar(prom.url, SAMPLE_COUNT, 2000)) ?? 0) >= 5,
    30_000,
  );
  const viaProm = await source.measure({ windows, timeoutMs: 2000 });
  assert.equal(viaProm.phase, 'ok', viaProm.message);
  assert.equal(viaProm.value.health.ok, true);
  const pm = viaProm.value.metrics;
  assert.equal(pm?.kind, 'windowed');
  if (pm?.kind !== 'windowed') return;
  t.diagnostic(
    `prometheus: attempts=${pm.extraction.attempts} failures=${pm.extraction.failures} ` +
      `p95=${pm.hashP95Ms}ms count=${pm.hashCount}`,
  );
  assert.ok(pm.extraction.attempts >= 44 && pm.extraction.attempts < 60, `attempts ${pm.extraction.attempts}`);
  assert.ok(pm.extraction.failures >= 4 && pm.extraction.failures < 6, `failures ${pm.extraction.failures}`);
  assert.ok(pm.hashCount >= 40);
  assert.ok(pm.hashP95Ms !== undefined && pm.hashP95Ms > 0 && pm.hashP95Ms <= 2000);
  assert.equal(pm.queueLength, 0);
  assert.match(
    buildPromQueries('job="dhash"', windows).hashP95Seconds,
    new RegExp(
      '^histogram_quantile\\(0\\.95, sum by \\(le\\) ' +
        '\\(increase\\(dhash_hash_duration_seconds_bucket\\{job="dhash"\\}\\[900s\\]\\)\\)\\)$',
    ),
  );

  // The service stops: both sources say so without throwing.
  svc.child.kill('SIGKILL');
  await new Promise((r) => svc.child.once('exit', r));
  const down = await service.measure({ windows, timeoutMs: 1000 });
  assert.equal(down.phase, 'error');
  assert.equal(down.value.health.ok, false);
  assert.equal(down.value.metrics, undefined);
  assert.match(down.message ?? '', /health: ECONNREFUSED; metrics: ECONNREFUSED/);
  await waitFor(
    'Prometheus to mark the target down',
    async () => (await queryPromScalar(prom.url, 'up{job="dhash"}', 2000)) === 0,
    15_000,
  );
  const promDown = await source.measure({ windows, timeoutMs: 2000 });
  assert.equal(promDown.value.health.ok, false);
  assert.equal(promDown.value.health.error, 'Prometheus reports the target down (up=0)');

  const unreachable = createPrometheusSource({
    url: `http://127.0.0.1:${await getFreePort()}`,
    selector: 'job="dhash"',
    healthUrl: '',
    clock,
  });
  const noProm = await unreachable.measure({ windows, timeoutMs: 1000 });
  assert.equal(noProm.phase, 'error');
  assert.match(noProm.value.metricsError ?? '', /^Prometheus query failed: ECONNREFUSED/);

  await writeFile(join(dir, 'service.pid'), String(process.pid));
  const host = createHostSource({ diskPath: dir, pidFile: join(dir, 'service.pid'), clock });
  await host.measure();
  // Process CPU is a rate between two readings on different milliseconds: measure until one exists (bounded).
  let h = await host.measure();
  for (const deadline = Date.now() + 5000; h.processCpuPercent === undefined && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    h = await host.measure();
  }
  for (const k of ['cpuPercent', 'memoryPercent', 'diskPercent', 'processCpuPercent'] as const) {
    assert.ok(typeof h[k] === 'number' && h[k]! >= 0 && h[k]! <= 100 * 8, `${k} = ${h[k]}`);
  }
  assert.ok(h.processRssBytes! > 10_000_000);
});

test('process CPU is a rate only over readings at least 100 ms apart: 10 ms ticks over 1 ms read as 1000 %', async (t) => {
  const dir = await createTempDir(t, 'dhash-host-rate-');
  await writeFile(join(dir, 'service.pid'), String(process.pid));
  const clock = createManualClock();
  const host = createHostSource({ diskPath: dir, pidFile: join(dir, 'service.pid'), clock });
  await host.measure();
  await clock.advance(1);
  // Burn a few ticks of real CPU: a rate over the 1 ms of clock time would be in the thousands of percent.
  for (const end = Date.now() + 30; Date.now() < end;);
  assert.equal((await host.measure()).processCpuPercent, undefined, 'no rate over 1 ms');
  await clock.advance(1000);
  const rate = (await host.measure()).processCpuPercent;
  assert.ok(rate !== undefined && rate >= 0 && rate <= 100 * 8, `processCpuPercent = ${rate}`);
});
