// Manual rollback refusals, all before anything changes: another env's backup, no terminal without --force, dry run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { snapshotTree } from '../../helpers/deploy-project.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackup } from '../../../src/rollout/backup/index.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';

async function setup(t: Parameters<typeof createTempDir>[0]) {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const staging = await createDeployedEnvironment(root, 'staging', { rows: 5 });
  const production = await createDeployedEnvironment(root, 'production', { rows: 5 });
  const options = { clock: createSystemClock(), logger: createSilentLogger() };
  const stagingBackup = await createBackup(staging.environment, options);
  const productionBackup = await createBackup(production.environment, options);
  return { root, stagingBackup: stagingBackup.file, productionBackup: productionBackup.file };
}

test(`refuses a backup of another environment (exit 3), naming the newest backup of the right one; \
nothing changes`, async (t) => {
  const { root, stagingBackup, productionBackup } = await setup(t);
  const before = await snapshotTree(join(root, '.dhash'));
  const result = await runCliForTest(['rollback', '--backup', stagingBackup, '--env', 'production', '--force'], {
    cwd: root,
  });
  assert.equal(result.exitCode, 3, result.stdout + result.stderr);
  assert.match(result.stderr, /staging/);
  assert.ok(result.stderr.includes(productionBackup.split('/').pop()!), result.stderr);
  assert.deepEqual(await snapshotTree(join(root, '.dhash')), before);
});

test(`without --force and without a terminal it refuses with exit 3 after verifying the backup; \
--dry-run changes nothing`, async (t) => {
  const { root, productionBackup } = await setup(t);
  const before = await snapshotTree(root);
  const refused = await runCliForTest(['rollback', '--backup', productionBackup, '--env', 'production'], { cwd: root });
  assert.equal(refused.exitCode, 3, refused.stdout + refused.stderr);
  assert.match(
    refused.stderr,
    /Refusing to roll back `production` without confirmation, and there is no terminal to ask on\./,
  );
  assert.match(refused.stdout, /verified/);
  const dry = await runCliForTest(['rollback', '--backup', productionBackup, '--env', 'production', '--dry-run'], {
    cwd: root,
  });
  assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /dry run: the backup is valid; nothing was changed/);
  assert.match(dry.stdout, /reusing the identical on-disk release|restored from the backup/);
  assert.deepEqual(await snapshotTree(root), before);
});
