// The runbook's dead-man's switch, run by promtool over monitor.prom's series: it fires on a silent monitor inside its
// window, and stays quiet for a beating one or a finished one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/processes.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const LABELS = '{env="production",deploy_id="production-20261128T010000000Z"}';

async function getRunbookRules(): Promise<string> {
  const runbook = await readFile(join(REPO_ROOT, 'docs/RUNBOOK.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(runbook.slice(runbook.indexOf('dead-man')));
  assert.ok(block, 'the runbook shows the alert rule');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n');
}

test(`the runbook alert fires for a silent monitor inside its window and not for a beating or finished \
one`, async (t) => {
  const dir = await createTempDir(t);
  await writeFile(join(dir, 'rules.yml'), await getRunbookRules());
  // One sample a minute for 10 minutes; the window ends at 3600 s.
  const series = (lastPoll: string, active: string) => [
    { series: `dhash_monitor_last_poll_timestamp_seconds${LABELS}`, values: lastPoll },
    { series: `dhash_monitor_window_end_timestamp_seconds${LABELS}`, values: '3600x10' },
    { series: `dhash_monitor_active${LABELS}`, values: active },
  ];
  const alert = { alertname: 'DhashMonitorSilent' };
  const firing = [
    {
      exp_labels: { severity: 'page', env: 'production', deploy_id: 'production-20261128T010000000Z' },
      exp_annotations: {
        summary: 'dhash monitor of production (production-20261128T010000000Z) stopped beating',
        description:
          "The rest of the deploy's window is unguarded. Run: node scripts/monitor_dhash.js --env " +
          'production --deploy production-20261128T010000000Z --resume',
      },
    },
  ];
  const tests = [
    // Beat at 0 s, then silent: stale (> 90 s) from 2 m, pending 1 m, firing from 3 m.
    {
      interval: '1m',
      input_series: series('0x10', '1x10'),
      alert_rule_test: [
        { ...alert, eval_time: '2m', exp_alerts: [] },
        { ...alert, eval_time: '4m', exp_alerts: firing },
      ],
    },
    {
      interval: '1m',
      input_series: series('0+60x10', '1x10'),
      alert_rule_test: [{ ...alert, eval_time: '8m', exp_alerts: [] }],
    },
    {
      interval: '1m',
      input_series: series('0x10', '0x10'),
      alert_rule_test: [{ ...alert, eval_time: '8m', exp_alerts: [] }],
    },
  ];
  await writeFile(
    join(dir, 'tests.json'),
    JSON.stringify({ rule_files: [join(dir, 'rules.yml')], evaluation_interval: '1m', tests }),
  );
  const result = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.json')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
