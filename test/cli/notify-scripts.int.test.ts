// The operator's notification commands, run verbatim as child processes over the built CLI (npm run build first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers/temp-dir.js';
import { startFakeWebhook, SLACK_OK, TEAMS_ACCEPTED } from '../helpers/notify-servers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const ENVIRONMENTS = {
  environments: {
    staging: { root: '.dhash/staging', service: { port: 8788 } },
    production: { root: '.dhash/production', isProduction: true, service: { port: 8789 } },
  },
};

function runScript(
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repo, script), ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function createProject(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await createTempDir(t, 'dhash-notify-cli-');
  await writeFile(join(root, 'environments.json'), JSON.stringify(ENVIRONMENTS));
  return root;
}

async function readOutbox(root: string) {
  const dir = join(root, 'notifications_out');
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (name) => ({ name, entry: JSON.parse(await readFile(join(dir, name), 'utf8')) })));
}

test('`node scripts/deploy/deploy-notify.js start --env staging --dry-run` writes the outbox and sends \
nothing', async (t) => {
  const root = await createProject(t);
  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const r = await runScript('scripts/deploy/deploy-notify.js', ['start', '--env', 'staging', '--dry-run'], root, {
    SLACK_WEBHOOK: slack.url,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(slack.requests.length, 0);
  const files = await readOutbox(root);
  assert.equal(files.length, 1);
  assert.match(files[0].name, /^\d{8}T\d{9}Z_start_staging_slack_[0-9a-f]{8}\.json$/);
  assert.equal(files[0].entry.reason, 'dry-run');
  assert.equal(files[0].entry.status, 'pending');
  assert.match(
    r.stdout,
    /^outboxed {2}slack -> notifications_out\/\d{8}T\d{9}Z_start_staging_slack_[0-9a-f]{8}\.json {2}\(dry-run\)\n/,
  );
  assert.match(r.stdout, /start \(info\) for staging: 0 delivered, 1 written to notifications_out\/\n$/);
});

test('`SLACK_WEBHOOK="..." TEAMS_WEBHOOK="..." ... success --env production --duration "5m 30s"` exits \
0 with one outbox file per channel', async (t) => {
  const root = await createProject(t);
  const r = await runScript(
    'scripts/deploy/deploy-notify.js',
    ['success', '--env', 'production', '--duration', '5m 30s'],
    root,
    { SLACK_WEBHOOK: '...', TEAMS_WEBHOOK: '...' },
  );
  assert.equal(r.code, 0, r.stderr);
  const files = await readOutbox(root);
  assert.deepEqual(
    files.map((f) => f.entry.channel),
    ['slack', 'teams'],
  );
  for (const { entry } of files) {
    assert.equal(
      entry.reason,
      `${entry.channel.toUpperCase()}_WEBHOOK is not a valid URL (expected https://...) (not retried)`,
    );
    assert.deepEqual(
      entry.message.fields.find((f: { label: string }) => f.label === 'Duration'),
      { label: 'Duration', value: '5m 30s' },
    );
  }
});

test('unreachable webhooks with secret URLs: exit 0, one file per channel, no secret in files or output', async (t) => {
  const root = await createProject(t);
  const slack = await startFakeWebhook(t, () => SLACK_OK, '/services/TSCRT/BSCRT/unreachableSECRET');
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED, '/workflows/x?sig=teamsSIGunreachable');
  await slack.close();
  await teams.close();
  const r = await runScript('scripts/notify.js', ['success', '--env', 'production', '--release', 'r7'], root, {
    SLACK_WEBHOOK: slack.url,
    TEAMS_WEBHOOK: teams.url,
  });
  assert.equal(r.code, 0, r.stderr);
  const files = await readOutbox(root);
  assert.deepEqual(
    files.map((f) => [f.entry.channel, f.entry.attempts.length, f.entry.reason]),
    [
      ['slack', 4, 'network error: ECONNREFUSED (gave up after 4 attempts)'],
      ['teams', 4, 'network error: ECONNREFUSED (gave up after 4 attempts)'],
    ],
  );
  const everything = r.stdout + r.stderr + files.map((f) => JSON.stringify(f.entry)).join('');
  for (const secret of ['TSCRT', 'unreachableSECRET', 'teamsSIGunreachable'])
    assert.ok(!everything.includes(secret), `${secret} leaked`);
});

test('bad usage exits 2 naming the problem', async (t) => {
  const root = await createProject(t);
  const unknown = await runScript('scripts/deploy/deploy-notify.js', ['deployed', '--env', 'staging'], root);
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr,
    'dhash: Unknown notification event `deployed`.\nKnown events: start, success, failure, ' +
      'monitor-start, gate-warning, gate-violation, rollback-start, rollback-success, rollback-failure, ' +
      'monitor-complete. Example: `node scripts/deploy/deploy-notify.js start --env staging --dry-run`.\n',
  );
  const duration = await runScript(
    'scripts/deploy/deploy-notify.js',
    ['success', '--env', 'staging', '--duration', '5 minutes'],
    root,
  );
  assert.equal(duration.code, 2);
  assert.match(
    duration.stderr,
    new RegExp(
      '^dhash: Expected the `--duration` option to be a duration such as "30s", "10m", "1h" or "5m 30s" ' +
        '\\(units ms, s, m, h, d\\), got `5 minutes` \\(string\\)\\.\\n',
    ),
  );
  const env = await runScript('scripts/notify.js', ['success', '--env', 'qa'], root);
  assert.equal(env.code, 2);
  assert.match(
    env.stderr,
    /^dhash: Unknown environment `qa` given to --env\.\nKnown environments: local, production, staging\./,
  );
  const noEnv = await runScript('scripts/notify.js', ['success'], root);
  assert.equal(noEnv.code, 2);
  assert.match(
    noEnv.stderr,
    /^dhash: Expected the `--env` option to be an environment name such as `staging`, got nothing\./,
  );
});

test('the shims say how to build when dist/ is missing', async (t) => {
  const copy = await createTempDir(t, 'dhash-nodist-');
  await mkdir(join(copy, 'scripts', 'deploy'), { recursive: true });
  await mkdir(join(copy, 'scripts', 'lib'), { recursive: true });
  await copyFile(join(repo, 'scripts/lib/run-built-cli.js'), join(copy, 'scripts/lib/run-built-cli.js'));
  await copyFile(join(repo, 'scripts/deploy/deploy-notify.js'), join(copy, 'scripts/deploy/deploy-notify.js'));
  await copyFile(join(repo, 'scripts/notify.js'), join(copy, 'scripts/notify.js'));
  for (const script of ['scripts/deploy/deploy-notify.js', 'scripts/notify.js']) {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(copy, script), 'start'], { cwd: copy }, (error, _out, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code) : 0, stderr }),
      ),
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'dhash: dist/ is missing; run npm ci first (it builds the toolkit).\n');
  }
});

test('`node scripts/notify.js flush --env production` delivers pending files once the channel works, \
then has nothing left', async (t) => {
  const root = await createProject(t);
  const first = await runScript(
    'scripts/notify.js',
    ['failure', '--env', 'production', '--message', 'Échec du déploiement 💥'],
    root,
    { SLACK_WEBHOOK: '...' },
  );
  assert.equal(first.code, 0, first.stderr);
  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const flushed = await runScript('scripts/notify.js', ['flush', '--env', 'production'], root, {
    SLACK_WEBHOOK: slack.url,
  });
  assert.equal(flushed.code, 0, flushed.stderr);
  assert.match(
    flushed.stdout,
    new RegExp(
      '^delivered slack ' +
        '{5}notifications_out\\/\\d{8}T\\d{9}Z_failure_production_slack_[0-9a-f]{8}\\.json\\nflushed: 1 ' +
        'delivered, 0 still pending, 0 skipped\\n$',
    ),
  );
  assert.equal(slack.requests.length, 1);
  assert.equal(slack.requests[0].json.blocks[1].text.text, 'Échec du déploiement 💥');
  const [file] = await readOutbox(root);
  assert.equal(file.entry.status, 'delivered');
  const again = await runScript('scripts/notify.js', ['flush'], root, { SLACK_WEBHOOK: slack.url });
  assert.equal(again.stdout, 'flushed: 0 delivered, 0 still pending, 0 skipped\n');
  assert.equal(slack.requests.length, 1);
});
