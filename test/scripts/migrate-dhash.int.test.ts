import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers/temp-dir.js';
import { hashDatabaseFiles } from '../helpers/database-files.js';

// Runs the operator's shim as a real process against the built
// CLI (built here when dist/ is missing; `npm ci` builds it).
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const shim = join(repoRoot, 'scripts', 'migrate_dhash.sh');

const builtCli = join(repoRoot, 'dist/cli/main.js');

/**
 * The shim runs the built CLI: build dist/ when it is missing
 * (npm ci normally has), and fail in one line if that fails.
 */
function ensureDistBuilt(): void {
  if (existsSync(builtCli)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  assert.ok(
    build.status === 0 && existsSync(builtCli),
    `dist/cli/main.js is missing and \`npm run build\` failed (exit ${build.status}): ` +
      `${(build.stderr || build.stdout).trim().split('\n').at(-1)}`,
  );
}

function runShim(args: string[], cwd = repoRoot, script = shim) {
  const result = spawnSync(script, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DHASH_PORT: '' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the operator page command `./scripts/migrate_dhash.sh --env staging --dry-run` works verbatim and \
changes nothing', () => {
  ensureDistBuilt();
  const stagingDb = join(repoRoot, '.dhash', 'staging', 'shared', 'dhash.sqlite');
  const existedBefore = existsSync(stagingDb);
  const before = hashDatabaseFiles(stagingDb);
  const result = runShim(['--env', 'staging', '--dry-run'], join(repoRoot, 'test'));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^dry run: nothing is changed in .*\.dhash\/staging\/shared\/dhash\.sqlite$/m);
  if (!existedBefore)
    assert.match(result.stdout, /^database does not exist yet; \d+ migrations? would create schema version \d+$/m);
  assert.match(result.stdout, /^resulting schema version: \d+$/m);
  assert.deepEqual(hashDatabaseFiles(stagingDb), before);
  assert.equal(existsSync(stagingDb), existedBefore);
});

test('the shim migrates a database given by --db and reports its status', async (t) => {
  ensureDistBuilt();
  const file = join(await createTempDir(t), 'db.sqlite');
  const up = runShim(['--db', file]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^migrated schema version 0 → \d+/m);
  const status = runShim(['status', '--db', file]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^001 +initial +applied +[0-9a-f]{64}$/m);
  const bad = runShim(['--env', 'nowhere']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown environment `nowhere` given to --env\.\nKnown environments: .*staging/);
});

test('without a build the shim says to run npm ci first and exits 2', async (t) => {
  const fakeRepo = await createTempDir(t);
  mkdirSync(join(fakeRepo, 'scripts'));
  copyFileSync(shim, join(fakeRepo, 'scripts', 'migrate_dhash.sh'));
  const result = runShim(['--env', 'staging', '--dry-run'], fakeRepo, join(fakeRepo, 'scripts', 'migrate_dhash.sh'));
  assert.equal(result.code, 2);
  assert.match(result.stderr, /run npm ci first/);
});
