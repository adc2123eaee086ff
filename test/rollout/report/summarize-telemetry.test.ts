import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { summarizeTelemetry, formatTelemetrySummary } from '../../../src/rollout/report/summarize-telemetry.js';
import { writeMonitorFixture } from '../../helpers/monitor-log-fixture.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createManualClock } from '../../../src/lib/clock.js';

const T0 = Date.UTC(2026, 10, 28, 1, 30, 0);

async function createLogs(t: Parameters<typeof createTempDir>[0]) {
  const root = await createTempDir(t);
  const dir = join(root, 'monitor_logs');
  const good = await writeMonitorFixture(dir, { outcome: 'all-clear', startMs: T0 - 3_600_000 });
  const bad = await writeMonitorFixture(dir, { outcome: 'rolled-back', startMs: T0 });
  const old = await writeMonitorFixture(dir, { outcome: 'rolled-back', startMs: T0 - 100 * 3_600_000 });
  const staging = await writeMonitorFixture(dir, { outcome: 'all-clear', env: 'staging', startMs: T0 });
  return { root, dir, good, bad, old, staging };
}

test(`summarises every gate over the period: worst value, how close it came to its threshold, warnings \
and violations`, async (t) => {
  const { dir, good, bad } = await createLogs(t);
  const s = await summarizeTelemetry(dir, { envName: 'local', sinceMs: 72 * 3_600_000, nowMs: T0 + 60_000 });
  assert.deepEqual(s.deploys, [good.deployId, bad.deployId], 'the 100 h old deploy and staging are left out');
  assert.equal(s.polls, 30 + 13);
  const rate = s.gates[0];
  assert.equal(rate.gate, 'extractionFailureRate', 'the gate closest to firing comes first');
  assert.equal(rate.polls, 43);
  assert.equal(rate.measured, 41, 'the first poll of each deploy had fewer than 20 extractions');
  assert.equal(rate.insufficientData, 2);
  assert.equal(rate.worstValue, 7.69);
  assert.equal(rate.maxRatio, 7.69 / 5);
  assert.equal(rate.worstDeployId, bad.deployId);
  assert.equal(rate.warnings, 2);
  assert.equal(rate.violations, 1);
  assert.equal(rate.deploys, 2);
  const cpu = s.gates.find((g) => g.gate === 'cpu')!;
  assert.deepEqual([cpu.worstValue, cpu.maxRatio, cpu.warnings, cpu.violations], [35, 35 / 90, 0, 0]);
  assert.deepEqual(
    s.gates.map((g) => g.gate),
    ['extractionFailureRate', 'cpu', 'p95HashTime', 'lowConfidenceQueue', 'health'],
  );
});

test('a shorter period only counts the polls inside it', async (t) => {
  const { dir, bad } = await createLogs(t);
  const s = await summarizeTelemetry(dir, { envName: 'local', sinceMs: 10_000, nowMs: T0 + 20_000 });
  assert.deepEqual(s.deploys, [bad.deployId]);
  assert.equal(s.polls, 6, 'polls at +10s..+20s');
});

test('prints a table and says what to do when the period holds nothing', async (t) => {
  const { root } = await createLogs(t);
  const clock = createManualClock(T0 + 60_000);
  const out = await runCliForTest(['telemetry', 'summary', '--env', 'local', '--since', '72h'], { cwd: root, clock });
  assert.equal(out.exitCode, 0);
  const lines = out.stdout.split('\n');
  assert.equal(
    lines[0],
    'Telemetry for --env local from 2026-11-25T01:31:00.000Z to 2026-11-28T01:31:00.000Z (72h): 2 ' +
      'monitored deploys, 43 polls.',
  );
  assert.match(lines[1], /^gate\s+threshold\s+worst\s+max ratio\s+polls/);
  assert.match(
    lines[2],
    /^extractionFailureRate\s+5 %\s+7\.69\s+154%\s+43\s+41\s+2\s+1\s+2\s+0\s+local-20261128T013000000Z$/,
  );
  const none = await runCliForTest(['telemetry', 'summary', '--env', 'production'], { cwd: root, clock });
  assert.equal(none.exitCode, 0);
  assert.match(
    none.stdout,
    /0 monitored deploys, 0 polls\.\nNo polls in this period: widen it with --since \(e\.g\. --since 72h\)\.\n$/,
  );
  const bad = await runCliForTest(['telemetry', 'summary', '--since', 'soon'], { cwd: root, clock });
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /Expected the `--since` option to be a duration such as "30s"/);
  assert.ok(formatTelemetrySummary({ fromMs: 0, toMs: 1, deploys: [], polls: 0, gates: [] }).includes('No polls'));
});

test('dhash report renders the latest deploy of an environment, or a named one, and names missing logs', async (t) => {
  const { root, bad, staging } = await createLogs(t);
  const latest = await runCliForTest(['report', '--env', 'local'], { cwd: root });
  assert.equal(latest.exitCode, 0);
  assert.equal(latest.stdout, `report written: ${join(root, 'monitor_logs', `${bad.deployId}.html`)}\n`);
  const named = await runCliForTest(['report', '--deploy', staging.deployId], { cwd: root });
  assert.equal(named.exitCode, 0);
  assert.ok(existsSync(join(root, 'monitor_logs', `${staging.deployId}.html`)));
  const missing = await runCliForTest(['report', '--deploy', 'local-20200101T000000000Z'], { cwd: root });
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /^dhash: No monitor logs were found for the deploy `local-20200101T000000000Z` in /);
  const neither = await runCliForTest(['report'], { cwd: root });
  assert.equal(neither.exitCode, 2);
});
