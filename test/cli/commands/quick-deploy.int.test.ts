import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createDeployProject } from '../../helpers/deploy-project.js';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/processes.js';

async function createProject(t: Parameters<typeof createDeployProject>[0]) {
  const project = await createDeployProject(t);
  await copyFile(join(REPO_ROOT, 'quality-gates-config.json'), join(project.root, 'quality-gates-config.json'));
  return project;
}

test(`quick-deploy --dry-run of a fresh environment validates, says there is nothing to back up, and \
changes nothing`, async (t) => {
  const { root } = await createProject(t);
  const out = await runCliForTest(['quick-deploy', '--env', 'local', '--dry-run'], {
    cwd: root,
    processEnv: { PATH: process.env.PATH },
  });
  assert.equal(out.exitCode, 0, out.stderr + out.stdout);
  assert.match(out.stdout, /▶ preflight:validate {2}validate config/);
  assert.match(out.stdout, /↷ backup:create {2}skipped: first deploy of local: nothing to back up yet\n/);
  assert.match(out.stdout, /✔ migrate:plan {2}done in \S+ — schema 0 → \d+: \d+ migration\(s\) pass on a copy\n/);
  for (const step of ['deploy:release', 'smoke:verify', 'monitor:start']) {
    assert.match(out.stdout, new RegExp(`↷ ${step} {2}skipped: dry-run: this step changes things\\n`));
  }
  assert.match(out.stdout, /quick-deploy to local: DRY RUN OK \(nothing changed\) in /);
  assert.equal(existsSync(join(root, '.dhash/local/releases')), false, 'no release was staged');
  assert.equal(existsSync(join(root, 'backups')), false, 'no backup was written');
  const outbox = await readdir(join(root, 'notifications_out'));
  assert.deepEqual(
    outbox.map((f) => /_(start|success)_local_/.exec(f)?.[1]).sort(),
    ['start', 'success'],
    'dry-run notifications are kept in the outbox',
  );
});

test(`quick-deploy --skip-migrations is refused, naming the option, when the release has pending \
migrations`, async (t) => {
  const { root } = await createProject(t);
  const out = await runCliForTest(['quick-deploy', '--env', 'local', '--dry-run', '--skip-migrations'], {
    cwd: root,
    processEnv: { PATH: process.env.PATH },
  });
  assert.equal(out.exitCode, 2);
  // Its own code, not EINVALIDOPTION: the option is valid, the release is what refuses it.
  assert.match(
    out.stderr,
    /^dhash: --skip-migrations is refused: the release has \d+ pending migrations?, which the deploy must apply\.\n/,
  );
  assert.match(out.stderr, /Leave out --skip-migrations: the deploy dry-runs them on a copy first/);
  assert.match(out.stdout, /quick-deploy to local: FAILED at migrate:plan in /);
});

test('pipeline steps prints the resolved quick-deploy step list with its hooks', async (t) => {
  const { root } = await createProject(t);
  const out = await runCliForTest(['pipeline', 'steps', '--env', 'local'], { cwd: root });
  assert.equal(out.exitCode, 0);
  const names = [...out.stdout.matchAll(/^ +\d\. (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(names, [
    'preflight:validate',
    'backup:create',
    'migrate:plan',
    'deploy:release',
    'smoke:verify',
    'monitor:start',
  ]);
  assert.match(out.stdout, /↱ before preflight:validate: notify:start/);
  assert.match(out.stdout, /On failure[^\n]*\n +- notify:failure +send `failure`[^\n]*\n +- incident:open /);
  const unknown = await runCliForTest(['pipeline', 'steps', '--env', 'nowhere'], { cwd: root });
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /Unknown environment `nowhere` given to --env\./);
});
