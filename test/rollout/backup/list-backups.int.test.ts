import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { createBackup, listBackups, pruneBackups } from '../../../src/rollout/backup/index.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';

const logger = createSilentLogger();

async function corrupt(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[100]! ^= 0xff;
  await writeFile(file, bytes);
}

async function makeFour(t: Parameters<typeof createTempDir>[0]) {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root);
  const clock = createManualClock(Date.UTC(2026, 10, 28, 1, 0, 0, 0));
  const files: string[] = [];
  for (let i = 0; i < 4; i++) {
    files.push((await createBackup(environment, { clock, logger })).file);
    await clock.advance(60_000);
  }
  return { root, env: environment, files };
}

test(`lists backups newest first with their verification state, ignoring temp files and other \
environments`, async (t) => {
  const { root, env: environment, files } = await makeFour(t);
  await corrupt(files[1]!);
  await writeFile(join(root, 'backups', '.dhash_20261128T090000000Z_staging.zip.tmp-abc'), 'partial');
  await writeFile(join(root, 'backups', 'dhash_20261128T090000000Z_production.zip'), 'other env');
  const quick = await listBackups(environment);
  assert.deepEqual(
    quick.map((l) => [basename(l.file), l.state, l.hasSha256File]),
    [
      ['dhash_20261128T010300000Z_staging.zip', 'unchecked', true],
      ['dhash_20261128T010200000Z_staging.zip', 'unchecked', true],
      ['dhash_20261128T010100000Z_staging.zip', 'unchecked', true],
      ['dhash_20261128T010000000Z_staging.zip', 'unchecked', true],
    ],
  );
  const verified = await listBackups(environment, { verify: true });
  assert.deepEqual(
    verified.map((l) => [l.state, l.problems[0]?.code]),
    [
      ['verified', undefined],
      ['verified', undefined],
      ['failed', 'ECHECKSUMMISMATCH'],
      ['verified', undefined],
    ],
  );
  const cli = await runCliForTest(['backup', 'list', '--env', 'staging'], { cwd: root });
  assert.equal(cli.exitCode, 0);
  assert.deepEqual(
    cli.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(0, 2)),
    [
      ['verified', 'backups/dhash_20261128T010300000Z_staging.zip'],
      ['verified', 'backups/dhash_20261128T010200000Z_staging.zip'],
      ['failed', 'backups/dhash_20261128T010100000Z_staging.zip'],
      ['verified', 'backups/dhash_20261128T010000000Z_staging.zip'],
    ],
  );
});

test(`prune keeps the N newest verified backups, keeps newer failed ones for inspection and deletes \
older ones`, async (t) => {
  const { root, env: environment, files } = await makeFour(t);
  await corrupt(files[2]!);
  const dry = await pruneBackups(environment, { keep: 2, isDryRun: true });
  assert.deepEqual(
    dry.deleted.map((l) => basename(l.file)),
    ['dhash_20261128T010000000Z_staging.zip'],
  );
  assert.equal(readdirSync(join(root, 'backups')).length, 8);

  const result = await pruneBackups(environment, { keep: 2 });
  assert.deepEqual(
    result.kept.map((l) => l.file),
    [files[3], files[1]],
  );
  assert.deepEqual(
    result.keptUnverified.map((l) => l.file),
    [files[2]],
  );
  assert.deepEqual(
    result.deleted.map((l) => l.file),
    [files[0]],
  );
  assert.equal(existsSync(files[0]!), false);
  assert.equal(existsSync(`${files[0]}.sha256`), false);
  assert.equal(readdirSync(join(root, 'backups')).length, 6);
});

test('prune never deletes the last verified backup, even when every newer one fails verification', async (t) => {
  const { root, env: environment, files } = await makeFour(t);
  for (const f of files.slice(1)) await corrupt(f);
  const result = await pruneBackups(environment, { keep: 1 });
  assert.deepEqual(
    result.kept.map((l) => l.file),
    [files[0]],
  );
  assert.deepEqual(result.deleted, []);
  const keepTwo = await pruneBackups(environment, { keep: 2 });
  assert.deepEqual(keepTwo.deleted, []);
  assert.equal(readdirSync(join(root, 'backups')).length, 8);
  const cli = await runCliForTest(['backup', 'prune', '--env', 'staging', '--keep', '0'], { cwd: root });
  assert.equal(cli.exitCode, 2);
  assert.equal(
    cli.stderr.split('\n')[0],
    'dhash: Expected the `--keep` option to be a whole number of at least 1, got `0` (string).',
  );
});
