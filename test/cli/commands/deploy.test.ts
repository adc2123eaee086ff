// `dhash deploy` / `dhash rollback` argument and refusal handling: exit codes and messages that name the flag or file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';

async function createProject(t: Parameters<typeof createTempDir>[0]): Promise<string> {
  const root = await createTempDir(t);
  await writeFile(
    join(root, 'environments.json'),
    JSON.stringify({
      environments: {
        local: { root: '.dhash/local', service: { port: 18999 } },
        production: { root: '.dhash/production', isProduction: true, service: { port: 18998 } },
      },
    }),
  );
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'dhash', version: '0.0.1' }));
  return root;
}

test('deploy without --env is a usage error naming --env', async (t) => {
  const result = await runCliForTest(['deploy'], { cwd: await createProject(t) });
  assert.equal(result.exitCode, 2);
  assert.match(result.stderr, /--env <name>/);
});

test('deploy to an unknown environment exits 2 listing the known ones', async (t) => {
  const result = await runCliForTest(['deploy', '--env', 'moon', '--dry-run'], { cwd: await createProject(t) });
  assert.equal(result.exitCode, 2);
  assert.match(result.stderr, /Unknown environment `moon` given to --env\.\nKnown environments: local, production\./);
});

test('a dry run of a checkout without dist/ fails validation (exit 2) saying to run npm run build', async (t) => {
  const result = await runCliForTest(['deploy', '--env', 'local', '--dry-run'], { cwd: await createProject(t) });
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stdout, /\[FAIL\] preflight:release .*npm run build/);
  assert.match(result.stdout, /dry run: nothing was changed; the deploy would be refused/);
});

test(`a real deploy of a missing --release path is refused before anything changes (exit 2), reporting \
every check`, async (t) => {
  const root = await createProject(t);
  const result = await runCliForTest(['deploy', '--env', 'local', '--release', 'missing-release'], { cwd: root });
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /Pre-deploy validation of `local` failed \(preflight:release\); nothing was changed\./);
  assert.match(result.stdout, /\[ OK \] preflight:lock/);
  assert.match(result.stdout, /\[ OK \] preflight:migrations/);
});

test('rollback without --force and without a terminal is refused (exit 3) after the backup checks', async (t) => {
  const root = await createProject(t);
  await mkdir(join(root, 'backups'));
  const missing = await runCliForTest(
    ['rollback', '--backup', 'backups/dhash_20261128T000000000Z_local.zip', '--env', 'local'],
    { cwd: root },
  );
  assert.notEqual(missing.exitCode, 0);
  assert.match(missing.stderr, /dhash_20261128T000000000Z_local\.zip/);
});
