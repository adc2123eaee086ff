import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers/temp-dir.js';
import { hashDatabaseFiles } from '../helpers/database-files.js';

// Runs the operator's shim as a real process against the built CLI (`npm run build` first; `npm ci` does it).
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const shim = join(repoRoot, 'scripts', 'migrate_dhash.sh');

function runShim(args: string[], cwd = repoRoot, script = shim) {
  const result = spawnSync(script, args, { cwd, encoding: 'utf8', env: { ...process.env, DHASH_PORT: '' }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the operator page command `./scripts/migrate_dhash.sh --env staging --dry-run` works verbatim and changes nothing', { skip: !existsSync(join(repoRoot, 'dist/cli/main.js')) && 'run npm run build first' }, () => {
  const stagingDb = join(repoRoot, '.dhash', 'staging', 'shared', 'dhash.sqlite');
  const existedBefore = existsSync(stagingDb);
  const before = hashDatabaseFiles(stagingDb);
  const result = runShim(['--env', 'staging', '--dry-run'], join(repoRoot, 'test'));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^dry run: nothing is changed in .*\.dhash\/staging\/shared\/dhash\.sqlite$/m);
  if (!existedBefore) assert.match(result.stdout, /^database does not exist yet; \d+ migrations? would create schema version \d+$/m);
  assert.match(result.stdout, /^resulting schema version: \d+$/m);
  assert.deepEqual(hashDatabaseFiles(stagingDb), before);
  assert.equal(existsSync(stagingDb), existedBefore);
});

test('the shim migrates a database given by --db and reports its status', { skip: !existsSync(join(repoRoot, 'dist/cli/main.js')) && 'run npm run build first' }, async (t) => {
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
