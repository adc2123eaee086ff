import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/processes.js';
import { createTempDir } from '../helpers/temp-dir.js';

test('scripts/monitor_dhash.js runs `dhash monitor` from the built CLI, and says to run npm ci when \
dist/ is missing', async (t) => {
  const help = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/monitor_dhash.js'), '--help'], {
    cwd: '/',
    encoding: 'utf8',
  });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: dhash monitor \[options\]/);
  assert.match(help.stdout, /--from-now/);

  const dir = await createTempDir(t);
  await mkdir(join(dir, 'scripts', 'lib'), { recursive: true });
  await copyFile(join(REPO_ROOT, 'scripts/monitor_dhash.js'), join(dir, 'scripts/monitor_dhash.js'));
  await copyFile(join(REPO_ROOT, 'scripts/lib/run-built-cli.js'), join(dir, 'scripts/lib/run-built-cli.js'));
  const bare = spawnSync(process.execPath, [join(dir, 'scripts/monitor_dhash.js'), '--env', 'production'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(bare.status, 2);
  assert.equal(bare.stderr, 'dhash: dist/ is missing; run npm ci first (it builds the toolkit).\n');
});
