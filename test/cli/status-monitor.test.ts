import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMonitorFixture, createScriptedSource, DEPLOY_ID } from '../rollout/monitor/helpers/monitor-fixture.js';
import { runCliForTest } from '../helpers/cli.js';

test('`dhash status` shows the journal tail, monitor progress, next poll and latest gate values', async (t) => {
  const f = await createMonitorFixture(t);
  await writeFile(
    join(f.root, 'environments.json'),
    JSON.stringify({ environments: { production: { root: 'env', service: { port: 8787 } } } }),
  );
  const controller = new AbortController();
  await f.run({
    signalSource: createScriptedSource(f.clock),
    signal: controller.signal,
    onPoll: (r) => r.pollIndex === 3 && controller.abort(),
  });
  const r = await runCliForTest(['status', '--env', 'production'], { cwd: f.root, clock: f.clock });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /current release: r2/);
  assert.match(r.stdout, new RegExp(`${DEPLOY_ID}  deploy:start started  release=r2`));
  assert.match(r.stdout, /monitor:start started/);
  assert.match(r.stdout, /window: 2026-11-28T01:00:00\.000Z \+ 1h; elapsed 1m 30s \(3%\)/);
  assert.match(r.stdout, /polls: 4, last 2026-11-28T01:01:30\.000Z, next 2026-11-28T01:02:00\.000Z/);
  assert.match(r.stdout, /extractionFailureRate +0 \/ 5 % {2}pass/);
  assert.match(r.stdout, /health +0 \/ 2 consecutive failures {2}pass/);
});

test('`dhash monitor` without a recorded deploy exits 2 naming --from-now', async (t) => {
  const f = await createMonitorFixture(t);
  await writeFile(
    join(f.root, 'environments.json'),
    JSON.stringify({ environments: { staging: { root: 'stg', service: { port: 8788 } } } }),
  );
  await writeFile(
    join(f.root, 'quality-gates-config.json'),
    await import('node:fs/promises').then((fs) =>
      fs.readFile(join(process.cwd(), 'quality-gates-config.json'), 'utf8'),
    ),
  );
  const r = await runCliForTest(['monitor', '--env', 'staging'], { cwd: f.root });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /No deploy of `staging` is recorded, so there is no window to monitor\./);
  assert.match(r.stderr, /--from-now/);
});
