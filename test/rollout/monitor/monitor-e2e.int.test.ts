import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { resolveEnvironment } from '../../../src/rollout/config/environments.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createReleaseId } from '../../../src/rollout/core/release-naming.js';
import { createBackup } from '../../../src/rollout/backup/index.js';
import { deployRelease } from '../../../src/rollout/deploy/deploy-release.js';
import { readJournal } from '../../../src/rollout/state/journal.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { computeContentSha256 } from '../../../src/rollout/release/content-hash.js';
import { createTargetDriver } from '../../../src/rollout/target/index.js';
import { readMonitorState } from '../../../src/rollout/monitor/monitor-state.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import { createFixtureImage } from '../../helpers/images.js';
import { getFreePort } from '../../helpers/free-port.js';
import { REPO_ROOT, waitFor } from '../../helpers/processes.js';
import { breakJpegHashing } from '../../helpers/deploy-project.js';

const clock = createSystemClock();
const logger = createSilentLogger();

/**
 * A copy of the good release whose hashing fails for JPEG input (the smoke test hashes a PNG, so the deploy passes).
 */
async function buildFaultyRelease(goodDir: string, outDir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(goodDir, 'release.json'), 'utf8'));
  const releaseId = createReleaseId({ createdAtMs: Date.now() + 1000, version: manifest.version, gitSha: 'faulty' });
  const dir = join(outDir, releaseId);
  await cp(goodDir, dir, { recursive: true, verbatimSymlinks: true });
  await breakJpegHashing(dir, 'injected fault: JPEG hashing broken in this release');
  const next = { ...manifest, releaseId, gitSha: 'faulty', contentSha256: await computeContentSha256(dir) };
  await writeFile(join(dir, 'release.json'), JSON.stringify(next, null, 2) + '\n');
  return dir;
}

function startMonitor(root: string): { child: ChildProcess; output: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'monitor', '--env', 'local'], {
    cwd: root,
    env: { ...process.env, DHASH_PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exit = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : -1))));
  return { child, output: () => out, exit };
}

test(
  'a faulty release is detected by the failure-rate gate, rolled back once (survives kill -9), the good ' +
    'release serves again',
  { timeout: 420_000 },
  async (t) => {
    // One hook stops the deployed service and then removes the folder (its pidfile is needed to stop it).
    const root = await mkdtemp(join(tmpdir(), 'dhash-e2e-monitor-'));
    const deployed: { environment?: Awaited<ReturnType<typeof resolveEnvironment>> } = {};
    t.after(async () => {
      if (deployed.environment)
        await createTargetDriver(deployed.environment, { clock, logger })
          .stop()
          .catch(() => {});
      if (!process.env.DHASH_KEEP_TMP) await rm(root, { recursive: true, force: true });
    });
    const port = await getFreePort();
    await writeFile(
      join(root, 'environments.json'),
      JSON.stringify({
        environments: {
          local: {
            root: '.dhash/local',
            service: { host: '127.0.0.1', port },
            deploy: { minFreeDiskMb: 0, healthyChecksRequired: 3, healthCheckIntervalMs: 200, healthTimeoutMs: 30_000 },
          },
        },
      }),
    );
    const gates = JSON.parse(await readFile(join(REPO_ROOT, 'quality-gates-config.json'), 'utf8'));
    gates.environments.local = {
      monitor: { window: '90s', poll: [{ every: '1s' }] },
      gates: { extractionFailureRate: { window: '10s', minEvents: 5 }, p95HashTime: { window: '10s', minEvents: 5 } },
    };
    await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates));
    const environment = await resolveEnvironment(root, 'local', {});
    deployed.environment = environment;

    const good = await buildRelease({ projectRoot: REPO_ROOT, outDir: join(root, 'artifacts'), clock });
    const faultyDir = await buildFaultyRelease(good.dir, join(root, 'artifacts'));
    const first = await deployRelease({ environment, release: good.dir, clock, logger, processEnv: {} });
    assert.equal(first.ok, true, first.timeline.map((e) => `${e.step} ${e.status} ${e.detail ?? ''}`).join('\n'));
    const backup = await createBackup(environment, { clock, logger, reason: 'pre-deploy' });
    const second = await deployRelease({
      environment,
      release: faultyDir,
      clock,
      logger,
      processEnv: {},
      backupFile: backup.file,
    });
    assert.equal(second.ok, true);
    assert.equal(basename(await readlink(environment.currentLink)), basename(faultyDir));

    const png = await createFixtureImage({ kind: 'gradient', width: 40, height: 30, seed: 3, format: 'png' });
    const jpeg = await createFixtureImage({ kind: 'noise', width: 40, height: 30, seed: 4, format: 'jpeg' });
    const sent: { at: number; ok: boolean }[] = [];
    let isFaultyTraffic = false;
    let conditionTrueAt: number | undefined;
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        const body = isFaultyTraffic && i % 2 === 0 ? jpeg : png;
        // The server counts the request while it is in flight: the condition can hold from the moment it is sent.
        const sentAt = Date.now();
        const r = await fetch(`${environment.baseUrl}/v1/hash`, {
          method: 'POST',
          headers: { 'content-type': body === jpeg ? 'image/jpeg' : 'image/png' },
          body,
        }).catch(() => undefined);
        const now = Date.now();
        if (r) {
          await r.arrayBuffer();
          sent.push({ at: sentAt, ok: r.status === 200 });
        }
        // The gate's condition: > 5 % failures among ≥ 5 attempts over the trailing 10 s.
        const recent = sent.filter((s) => now - s.at <= 10_000);
        if (
          conditionTrueAt === undefined &&
          recent.length >= 5 &&
          recent.filter((s) => !s.ok).length * 100 > 5 * recent.length
        )
          conditionTrueAt = sentAt;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    t.after(async () => {
      stop = true;
      await traffic;
    });

    // First monitor: killed with SIGKILL after a few good polls.
    const m1 = startMonitor(root);
    await waitFor('three polls', async () => ((await readMonitorState(environment))?.pollIndex ?? 0) >= 3, 30_000);
    m1.child.kill('SIGKILL');
    assert.equal(await m1.exit, 128);
    const before = (await readMonitorState(environment))!;
    assert.equal(before.deployId, second.deployId);

    const m2 = startMonitor(root);
    await waitFor('the resumed monitor', async () => /Resuming the monitor of/.test(m2.output()), 15_000);
    // Taken before the first faulty request can be sent: no failure can be counted, nor detected, earlier.
    const faultyFromMs = Date.now();
    isFaultyTraffic = true;
    const code = await m2.exit;
    t.diagnostic(m2.output().split('\n').slice(-6).join('\n'));
    assert.equal(code, 1, m2.output());
    stop = true;
    await traffic;

    const state = (await readMonitorState(environment))!;
    assert.equal(state.windowStartMs, before.windowStartMs);
    assert.ok(state.pollIndex > before.pollIndex);
    assert.equal(state.outcome, 'rolled-back');
    assert.equal(state.rollback?.status, 'succeeded');
    const lines = (await readFile(join(root, 'monitor_logs', `${second.deployId}.jsonl`), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.pollIndex),
      lines.map((_, i) => i),
      'poll indexes continue across the kill without a gap or reset',
    );
    const violation = lines.find((l) =>
      l.gates.some(
        (g: { name: string; verdict: string }) => g.name === 'extractionFailureRate' && g.verdict === 'violated',
      ),
    );
    assert.ok(violation, 'a poll saw the failure-rate gate violated');
    const summary = JSON.parse(await readFile(join(root, 'monitor_logs', `${second.deployId}.summary.json`), 'utf8'));
    assert.equal(summary.outcome, 'rolled-back');
    assert.equal(summary.violation.gate, 'extractionFailureRate');

    // The good release serves again, and hashes JPEGs.
    assert.equal(basename(await readlink(environment.currentLink)), good.releaseId);
    const health = await fetch(`${environment.baseUrl}/health`);
    assert.equal(health.status, 200);
    const again = await fetch(`${environment.baseUrl}/v1/hash`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: jpeg,
    });
    assert.equal(again.status, 200);

    const incidents = (await readdir(join(root, 'incidents'))).filter((n) => n.endsWith('.json'));
    assert.equal(incidents.length, 1);
    const incident = JSON.parse(await readFile(join(root, 'incidents', incidents[0]), 'utf8'));
    assert.equal(incident.trigger.gate, 'extractionFailureRate');
    assert.equal(incident.backup.verified, true);
    const outbox = await readdir(join(root, 'notifications_out'));
    for (const event of ['monitor-start', 'gate-violation', 'rollback-start', 'rollback-success']) {
      assert.ok(
        outbox.some((n) => n.includes(event)),
        `an outbox file for ${event} in ${outbox.join(', ')}`,
      );
    }
    const rollbackIds = new Set(
      (await readJournal(environment)).filter((e) => e.kind === 'rollback').map((e) => e.deployId),
    );
    assert.equal(rollbackIds.size, 1, 'exactly one rollback in the journal');

    // Started again: the window's rollback is done; no second one.
    const m3 = startMonitor(root);
    assert.equal(await m3.exit, 1);
    assert.match(m3.output(), /already finished: rolled-back/);
    assert.equal((await readdir(join(root, 'incidents'))).filter((n) => n.endsWith('.json')).length, 1);

    const detectedAt = Date.parse(violation.time);
    const healthyAt = Date.parse(summary.rollback.thirdOkHealthAt);
    t.diagnostic(`condition true (client view) → detection: ${detectedAt - conditionTrueAt!} ms (poll every 1 s)`);
    t.diagnostic(`detection → third OK health check after rollback: ${healthyAt - detectedAt} ms`);
    // Judged on what the monitor recorded, not on a race between the client's clock
    // and the poll's: each poll line holds the gate's window (attempts, failures)
    // it judged. The gate's condition: > 5 % failures among ≥ 5 attempts.
    const isConditionMet = (l: { signals: { extraction?: { attempts: number; failures: number } } }) =>
      l.signals.extraction !== undefined &&
      l.signals.extraction.attempts >= 5 &&
      l.signals.extraction.failures * 100 > 5 * l.signals.extraction.attempts;
    assert.equal(
      lines.findIndex(isConditionMet),
      lines.indexOf(violation),
      'never detected before the condition held: the violation is the first poll whose window meets it',
    );
    assert.ok(detectedAt >= faultyFromMs, 'never detected before the faulty traffic began');
    const pollsSinceFault = lines.filter(
      (l) => Date.parse(l.time) >= faultyFromMs && l.pollIndex <= violation.pollIndex,
    ).length;
    assert.ok(pollsSinceFault <= 5, `detected within a few polls of the faulty traffic (${pollsSinceFault} polls)`);
    await rename(join(root, 'artifacts'), join(root, 'artifacts-done'));
  },
);
