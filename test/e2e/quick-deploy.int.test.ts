import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createDeployProject, createReleaseVariant } from '../helpers/deploy-project.js';
import { getFreePort } from '../helpers/free-port.js';
import { createFixtureImage } from '../helpers/images.js';
import { SLACK_OK, startFakeWebhook } from '../helpers/notify-servers.js';
import { REPO_ROOT } from '../helpers/processes.js';

// Real processes, real time: two quick-deploys of `local` with a 45 s monitor window polled every second.
const GATES = {
  monitor: { window: '45s', poll: [{ every: '1s' }] },
  gates: { extractionFailureRate: { maxPercent: 5, window: '30s', minEvents: 5, action: 'rollback' } },
};

function runQuickDeploy(
  root: string,
  args: string[],
  processEnv: Record<string, string | undefined>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'quick-deploy.sh'), ...args], {
      cwd: root,
      env: processEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** Steady image traffic, as users would send, so the extraction gates have events to judge. */
function startTraffic(baseUrl: string, png: Buffer): { stop: () => Promise<{ ok: number; failed: number }> } {
  let isRunning = true;
  const counts = { ok: 0, failed: 0 };
  const loop = (async () => {
    while (isRunning) {
      try {
        const r = await fetch(`${baseUrl}/v1/hash`, {
          method: 'POST',
          body: png,
          headers: { 'content-type': 'image/png' },
          signal: AbortSignal.timeout(2000),
        });
        await r.arrayBuffer();
        if (r.ok) counts.ok++;
        else counts.failed++;
      } catch {
        // The service restarts during a deploy; connection errors are expected then.
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return { stop: async () => ((isRunning = false), await loop, counts) };
}

test(
  'quick-deploy: a good release ends all clear; a misbehaving one is rolled back by the monitor with ' +
    'incident, report and notifications',
  { timeout: 900_000 },
  async (t) => {
    assert.ok(existsSync(join(REPO_ROOT, 'dist/cli/main.js')), 'run `npm run build` before the end-to-end test');
    const project = await createDeployProject(t, { healthTimeoutMs: 60_000 });
    const { root, baseUrl } = project;
    const gates = JSON.parse(await readFile(join(REPO_ROOT, 'quality-gates-config.json'), 'utf8')) as {
      environments: Record<string, unknown>;
    };
    gates.environments.local = GATES;
    await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates, null, 2));
    await copyFile(join(REPO_ROOT, 'quick-deploy.sh'), join(root, 'quick-deploy.sh'));
    const slack = await startFakeWebhook(t, () => SLACK_OK, '/slack');
    const deadPort = await getFreePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DHASH_PORT: '',
      SLACK_WEBHOOK: slack.url,
      TEAMS_WEBHOOK: `http://127.0.0.1:${deadPort}/teams`,
    };
    const png = await createFixtureImage({ kind: 'gradient', width: 96, height: 64, seed: 7, format: 'png' });

    // 1. The checkout, followed to the end of its window: all clear.
    const good = { traffic: startTraffic(baseUrl, png) };
    const first = await runQuickDeploy(root, ['--env', 'local', '--follow'], env);
    const firstTraffic = await good.traffic.stop();
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /↷ backup:create {2}skipped: first deploy of local: nothing to back up yet/);
    assert.match(first.output, /quick-deploy to local: DEPLOYED in /);
    assert.ok(firstTraffic.ok > 20, `traffic was served (${JSON.stringify(firstTraffic)})`);
    const goodReleaseId = basename(await readlink(join(root, '.dhash/local/current')));
    const firstDeployId = /deploy:\s+(local-\d{8}T\d{9}Z)/.exec(first.output)?.[1];
    assert.ok(firstDeployId, first.output);
    const firstSummary = JSON.parse(
      await readFile(join(root, 'monitor_logs', `${firstDeployId}.summary.json`), 'utf8'),
    ) as { outcome: string };
    assert.equal(firstSummary.outcome, 'all-clear');

    // 2. A release whose hashing breaks for wide images: smoke tests pass, real traffic fails.
    const badDir = await createReleaseVariant(
      join(root, '.dhash/local/releases', goodReleaseId),
      await mkdirp(join(root, 'candidates')),
      'bad',
      async (dir) => {
        const file = join(dir, 'dist/service/hash/hash-image.js');
        const code = await readFile(file, 'utf8');
        // A regression that only hits images wider than the smoke test's 64 px fixture: smoke passes, users fail.
        const anchor = '    const header = await readImageHeader(bytes, maxPixels);\n';
        const patched = code.replace(
          anchor,
          `${anchor}    if (header.width > 80) throw new Error("injected fault: hashing broken for wide images");\n`,
        );
        assert.notEqual(patched, code, 'the hashImage entry was found to patch');
        await writeFile(file, patched);
      },
    );
    const bad = startTraffic(baseUrl, png);
    const second = await runQuickDeploy(root, ['--env', 'local', '--release', badDir, '--follow'], env);
    const secondTraffic = await bad.stop();
    assert.equal(second.code, 1, second.output);
    assert.ok(secondTraffic.failed > 0, `the bad release failed requests (${JSON.stringify(secondTraffic)})`);
    assert.match(second.output, /✔ backup:create {2}done in .* — backups\/dhash_\d{8}T\d{9}Z_local\.zip verified/);
    assert.match(second.output, /FAILED at monitor:start/);
    const secondDeployId = /deploy:\s+(local-\d{8}T\d{9}Z)/.exec(second.output)?.[1];
    assert.ok(secondDeployId, second.output);

    // The good release serves again.
    assert.equal(basename(await readlink(join(root, '.dhash/local/current'))), goodReleaseId);
    const health = await fetch(`${baseUrl}/health`);
    assert.equal(health.status, 200);
    const hashed = await fetch(`${baseUrl}/v1/hash`, {
      method: 'POST',
      body: png,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(hashed.status, 200);

    // The monitor's record: violation, rollback, incident, report.
    const summary = JSON.parse(
      await readFile(join(root, 'monitor_logs', `${secondDeployId}.summary.json`), 'utf8'),
    ) as { outcome: string; violation?: { gate: string } };
    assert.equal(summary.outcome, 'rolled-back');
    assert.equal(summary.violation?.gate, 'extractionFailureRate');
    const report = await readFile(join(root, 'monitor_logs', `${secondDeployId}.html`), 'utf8');
    assert.match(report, /<svg class="chart" id="chart-extractionFailureRate"/);
    assert.match(report, /class="marker violation-marker"/);
    const incidents = (await readdir(join(root, 'incidents'))).filter((f) => f.endsWith('.json'));
    assert.ok(incidents.length >= 1, 'an incident was recorded');
    const incident = await readFile(join(root, 'incidents', incidents[incidents.length - 1]), 'utf8');
    assert.match(incident, /extractionFailureRate/);

    // Notifications: Slack (reachable) received them; Teams (unreachable) went to the outbox with the reason.
    const slackText = slack.requests.map((r) => r.body.toString('utf8')).join('\n');
    for (const word of ['start', 'success', 'violat', 'rollback'])
      assert.match(slackText, new RegExp(word, 'i'), `slack got a ${word} message`);
    const outbox = await readdir(join(root, 'notifications_out'));
    const teamsOutboxed = [];
    for (const f of outbox) {
      const text = await readFile(join(root, 'notifications_out', f), 'utf8');
      if (/teams/i.test(text)) teamsOutboxed.push(text);
    }
    assert.ok(
      teamsOutboxed.length >= 4,
      `teams notifications were outboxed (${teamsOutboxed.length} of ${outbox.length} files)`,
    );
    assert.ok(
      !outbox.some((f) => f.includes(String(deadPort))) &&
        !(await Promise.all(outbox.map((f) => readFile(join(root, 'notifications_out', f), 'utf8')))).some((x) =>
          x.includes(`127.0.0.1:${deadPort}`),
        ),
      'webhook URLs are redacted in the outbox',
    );
  },
);

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
