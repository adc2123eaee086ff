import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadQualityGates,
  resolveQualityGates,
  validateQualityGatesFile,
} from '../../../src/rollout/config/quality-gates.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { explainGates } from '../../../src/rollout/core/gate-explain.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

test('the shipped file resolves production to the operator page defaults', async () => {
  const q = await loadQualityGates(REPO, 'production');
  assert.deepEqual(q.monitor, {
    windowMs: 3_600_000,
    poll: [{ everyMs: 30_000, forMs: 300_000 }, { everyMs: 120_000 }],
  });
  assert.deepEqual(q.gates, {
    health: { maxConsecutiveFailures: 2, action: 'rollback' },
    extractionFailureRate: { maxPercent: 5, windowMs: 600_000, minEvents: 20, action: 'rollback' },
    p95HashTime: { maxMs: 2000, windowMs: 900_000, minEvents: 20, action: 'rollback' },
    lowConfidenceQueue: { maxItems: 1000, action: 'rollback' },
    cpu: { maxPercent: 90, windowMs: 300_000, action: 'alert' },
    memory: { maxPercent: 90, action: 'alert' },
    disk: { maxPercent: 90, action: 'alert' },
  });
  const local = await loadQualityGates(REPO, 'local');
  assert.deepEqual(local.monitor, { windowMs: 180_000, poll: [{ everyMs: 2000 }] });
  assert.deepEqual(local.gates, q.gates);
});

test('environment entries override the defaults key by key inside each gate', async () => {
  const file = await validateQualityGatesFile(REPO);
  file.environments.staging = { gates: { extractionFailureRate: { maxPercent: 10 } }, monitor: { window: '30m' } };
  const q = resolveQualityGates(file, 'staging');
  assert.deepEqual(q.gates.extractionFailureRate, {
    maxPercent: 10,
    windowMs: 600_000,
    minEvents: 20,
    action: 'rollback',
  });
  assert.equal(q.monitor.windowMs, 1_800_000);
  assert.equal(q.monitor.poll.length, 2);
});

test('every problem is reported at once, each naming its JSON path', async (t) => {
  const dir = await createTempDir(t);
  const raw = JSON.parse(JSON.stringify(await validateQualityGatesFile(REPO)));
  raw.defaults.gates.extractionFailureRate.window = '10 minutes';
  raw.defaults.gates.health.action = 'panic';
  raw.environments.local.monitor.poll = [{ every: '2s' }, { every: '5s' }];
  raw.environments.staging = { gates: { cpu: { maxPercent: 150 } } };
  await writeFile(join(dir, 'quality-gates-config.json'), JSON.stringify(raw));
  await assert.rejects(validateQualityGatesFile(dir), (e) => {
    assert.ok(isDhashError(e, 'EINVALIDCONFIG'));
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, 'The configuration file quality-gates-config.json is invalid (4 problems).');
    for (const path of [
      'defaults.gates.health.action',
      'defaults.gates.extractionFailureRate.window',
      'environments.local.monitor.poll[0].for',
      'environments.staging.gates.cpu.maxPercent',
    ]) {
      assert.match(e.details, new RegExp(`- ${path.replace(/[[\].]/g, '\\$&')}: `));
    }
    return true;
  });
});

test('explain gives the worst-case time to detect per cadence phase', async () => {
  const rows = explainGates(await loadQualityGates(REPO, 'production'));
  assert.equal(rows[0].worstCaseDetect, '1m 30s with 30s polls (first 5m); 6m with 2m polls (after 5m)');
  assert.equal(rows[3].worstCaseDetect, '30s with 30s polls (first 5m); 2m with 2m polls (after 5m)');
});

test('`dhash gates explain --env production` prints every gate', async () => {
  const r = await runCliForTest(['gates', 'explain', '--env', 'production'], { cwd: REPO });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Quality gates for production: window 1h from the deploy, polling every 30s for 5m, then every 2m\./,
  );
  assert.match(r.stdout, /health {2}\[rollback\]\n {2}threshold: > 2 consecutive non-OK checks/);
  assert.match(r.stdout, /cpu {2}\[alert\]/);
});
