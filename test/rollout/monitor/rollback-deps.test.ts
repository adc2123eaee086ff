import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBackup } from '../../../src/rollout/backup/index.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { resolveEnvironment } from '../../../src/rollout/config/environments.js';
import { findRollbackBackup } from '../../../src/rollout/monitor/auto-rollback.js';
import { formatBackupProblems, verifyRollbackBackup } from '../../../src/rollout/rollback/rollback-verify.js';

const verifyChecksumAndManifest = async (file: string, environment: Parameters<typeof verifyRollbackBackup>[1]) => {
  const r = await verifyRollbackBackup(file, environment);
  return { ok: r.ok, problems: formatBackupProblems(r.problems) };
};
import { createSilentLogger } from '../../../src/lib/logger.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { createTempDir } from '../../helpers/temp-dir.js';

test('the monitor verifies a real backup by checksum and manifest, and names what is wrong', async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root, 'staging');
  const clock = createManualClock(Date.UTC(2026, 10, 28, 0, 30));
  const backup = await createBackup(environment, { clock, logger: createSilentLogger() });
  assert.deepEqual(await verifyChecksumAndManifest(backup.file, environment), { ok: true, problems: [] });

  const production = await resolveEnvironment(root, 'production', {});
  const other = await verifyChecksumAndManifest(backup.file, production);
  assert.equal(other.ok, false);
  assert.match(other.problems[0], /^EWRONGENV: this is a backup of `staging`, not `production`/);

  const tampered = join(root, 'backups', 'dhash_20261128T003000001Z_staging.zip');
  await copyFile(backup.file, tampered);
  await writeFile(
    `${tampered}.sha256`,
    (await readFile(`${backup.file}.sha256`, 'utf8')).replace(
      / \S+\n?$/,
      ' backups/dhash_20261128T003000001Z_staging.zip\n',
    ),
  );
  assert.deepEqual(await verifyChecksumAndManifest(tampered, environment), { ok: true, problems: [] });
  await appendFile(tampered, 'x');
  const bad = await verifyChecksumAndManifest(tampered, environment);
  assert.equal(bad.ok, false);
  assert.match(bad.problems[0], /^ECHECKSUMMISMATCH: /);

  // The backup for a deploy without one recorded: the newest of the env taken strictly before the deploy.
  const deployAt = Date.UTC(2026, 10, 28, 0, 30, 0, 1);
  assert.equal(await findRollbackBackup(join(root, 'backups'), 'staging', { startedAtMs: deployAt }), backup.file);
  assert.equal(await findRollbackBackup(join(root, 'backups'), 'staging', { startedAtMs: deployAt + 1 }), tampered);
  assert.equal(await findRollbackBackup(join(root, 'backups'), 'staging', { startedAtMs: deployAt - 1 }), undefined);
  assert.equal(await findRollbackBackup(join(root, 'backups'), 'production', { startedAtMs: deployAt + 1 }), undefined);
  assert.equal(
    await findRollbackBackup(join(root, 'backups'), 'staging', { startedAtMs: 0, backupFile: '/x.zip' }),
    '/x.zip',
  );
});
