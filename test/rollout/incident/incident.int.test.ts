// Incident records: JSON + Markdown content, PagerDuty paging through the notifier, never overwriting, the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createIncident, listIncidents, type IncidentInput } from '../../../src/rollout/incident/create-incident.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { PAGERDUTY_ACCEPTED, runWithClock, startFakeWebhook } from '../../helpers/notify-servers.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createNotifyProject, createTestNotifier } from '../notify/notify-fixture.js';

const INPUT: IncidentInput = {
  env: 'production',
  severity: 'critical',
  deployId: 'production-20261128T011500123Z',
  releaseId: 'r42',
  trigger: { gate: 'p95-hash-time', observed: 2450, threshold: 2000, window: '15m' },
  timeline: [
    { time: '2026-11-28T00:10:00.000Z', step: 'monitor:evaluate', status: 'violated', detail: 'p95 2450 ms > 2000 ms' },
    { time: '2026-11-28T00:10:01.000Z', step: 'rollback:restore', status: 'succeeded' },
  ],
  backup: { file: 'backups/dhash_20261128T000000000Z_production.zip', verified: true, problems: [] },
  verification: {
    healthChecks: [
      { ok: true, httpStatus: 200, latencyMs: 12 },
      { ok: true, httpStatus: 200, latencyMs: 9 },
      { ok: true, httpStatus: 200, latencyMs: 10 },
    ],
    smoke: { ok: true, checks: [{ name: 'health', ok: true, durationMs: 14 }] },
  },
  deliveries: [{ channel: 'slack', status: 'delivered', attempts: 1, event: 'gate-violation' }],
  monitorLogs: ['monitor_logs/production-20261128T011500123Z.jsonl'],
};

test(`writes incidents/<id>.json and a readable .md with trigger, timeline, backup, verification, \
deliveries and log links`, async (t) => {
  const root = await createNotifyProject(t);
  const clock = createManualClock(Date.UTC(2026, 10, 28, 0, 10, 2, 5));
  const result = await createIncident(INPUT, { projectRoot: root, clock, redact: createRedactor({}) });
  assert.equal(result.id, 'INC-production-20261128T001002005Z');
  assert.equal(result.jsonFile, join(root, 'incidents', 'INC-production-20261128T001002005Z.json'));
  const json = JSON.parse(await readFile(result.jsonFile, 'utf8'));
  const { notify: _n, notifyEvent: _e, ...expected } = INPUT;
  assert.deepEqual(json, { formatVersion: 1, id: result.id, createdAt: '2026-11-28T00:10:02.005Z', ...expected });
  const md = await readFile(result.mdFile, 'utf8');
  assert.ok(md.startsWith('# INC-production-20261128T001002005Z: critical incident on production\n'));
  assert.ok(md.includes('| p95-hash-time | 2450 | 2000 | 15m |'));
  assert.ok(md.includes('| 2026-11-28T00:10:00.000Z | monitor:evaluate | violated | p95 2450 ms > 2000 ms |'));
  assert.ok(md.includes('- **Verified:** yes (sha256 and manifest match)'));
  assert.ok(md.includes('| 3 | OK | httpStatus: 200, latencyMs: 10 |'));
  assert.ok(md.includes('Smoke tests: **passed**'));
  assert.ok(md.includes('| gate-violation | slack | delivered | 1 |  |'));
  assert.ok(
    md.includes(
      '- [monitor_logs/production-20261128T011500123Z.jsonl](../monitor_logs/production-20261128T011500123Z.jsonl)',
    ),
  );
  // Never overwrites: the same millisecond gets a suffix.
  const second = await createIncident(INPUT, { projectRoot: root, clock, redact: createRedactor({}) });
  assert.equal(second.id, 'INC-production-20261128T001002005Z-2');
  assert.deepEqual(
    (await listIncidents(root)).map((i) => i.record.id),
    [second.id, result.id],
  );
});

test('a critical incident pages PagerDuty through the notifier and records every channel delivery', async (t) => {
  const root = await createNotifyProject(t);
  const pd = await startFakeWebhook(t, () => PAGERDUTY_ACCEPTED(), '/v2/enqueue');
  const env = {
    PAGERDUTY_ROUTING_KEY: 'INC-R0UTING-KEY',
    PAGERDUTY_URL: pd.url,
    SLACK_WEBHOOK: 'http://127.0.0.1:9/never-used-for-info',
  };
  const { clock, tracker, notifier } = await createTestNotifier(root, env, { policy: { maxAttempts: 1 } });
  const redact = createRedactor(env);
  const result = await runWithClock(
    clock,
    tracker,
    createIncident(
      { ...INPUT, deliveries: [], notifyEvent: 'rollback-failure' },
      { projectRoot: root, clock, redact, notifier },
    ),
  );
  assert.equal(pd.requests.length, 1);
  assert.equal(pd.requests[0].json.event_action, 'trigger');
  assert.equal(pd.requests[0].json.dedup_key, 'dhash-production-production-20261128T011500123Z');
  assert.equal(pd.requests[0].json.payload.custom_details.Incident, result.id);
  assert.equal(
    pd.requests[0].json.payload.summary,
    `🆘 dhash production: Rollback FAILED: a human must act: Incident ${result.id}: gate p95-hash-time ` +
      `observed 2450 against threshold 2000 over 15m.`,
  );
  const json = JSON.parse(await readFile(result.jsonFile, 'utf8'));
  assert.deepEqual(json.deliveries.map((d: any) => [d.event, d.channel, d.status]).sort(), [
    ['rollback-failure', 'pagerduty', 'delivered'],
    ['rollback-failure', 'slack', 'outboxed'],
  ]);
  const written = (await readFile(result.jsonFile, 'utf8')) + (await readFile(result.mdFile, 'utf8'));
  assert.ok(!written.includes('INC-R0UTING-KEY') && !written.includes('never-used-for-info'));
});

test('`dhash incident create` and `dhash incident list` work from the CLI, with exit 2 on bad flags', async (t) => {
  const root = await createNotifyProject(t);
  await writeFile(
    join(root, 'rollback.json'),
    JSON.stringify({ timeline: INPUT.timeline, backup: INPUT.backup, trigger: INPUT.trigger }),
  );
  const clock = createManualClock(Date.UTC(2026, 10, 28, 1, 2, 3, 4));
  const created = await runCliForTest(
    [
      'incident',
      'create',
      '--env',
      'production',
      '--trigger',
      'operator saw 5xx',
      '--from-json',
      'rollback.json',
      '--severity',
      'warning',
    ],
    { cwd: root, clock },
  );
  assert.equal(created.exitCode, 0, created.stderr);
  assert.equal(
    created.stdout,
    'INC-production-20261128T010203004Z (warning): gate p95-hash-time observed 2450 against threshold 2000 ' +
      'over 15m; operator saw 5xx\n  incidents/INC-production-20261128T010203004Z.json\n  ' +
      'incidents/INC-production-20261128T010203004Z.md\n',
  );
  assert.deepEqual((await readdir(join(root, 'incidents'))).sort(), [
    'INC-production-20261128T010203004Z.json',
    'INC-production-20261128T010203004Z.md',
  ]);
  const listed = await runCliForTest(['incident', 'list'], { cwd: root, clock });
  assert.equal(listed.exitCode, 0);
  assert.match(
    listed.stdout,
    /^INC-production-20261128T010203004Z {2}warning {3}2026-11-28T01:02:03.004Z {2}gate p95-hash-time/,
  );
  const bad = await runCliForTest(
    ['incident', 'create', '--env', 'production', '--trigger', 'x', '--severity', 'sev1'],
    { cwd: root, clock },
  );
  assert.equal(bad.exitCode, 2);
  assert.match(
    bad.stderr,
    /^dhash: Expected the `--severity` option to be one of info, warning, critical, got `sev1` \(string\)\./,
  );
  await writeFile(join(root, 'bad.json'), JSON.stringify({ trigger: { gate: 5 } }));
  const badFile = await runCliForTest(['incident', 'create', '--env', 'production', '--from-json', 'bad.json'], {
    cwd: root,
    clock,
  });
  assert.equal(badFile.exitCode, 2);
  assert.match(badFile.stderr, /trigger\.gate: /);
});
