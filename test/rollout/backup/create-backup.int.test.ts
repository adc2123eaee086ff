import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { lstat, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createBackupProject, createDeployedEnvironment, createRowsTable } from '../../helpers/backup-fixtures.js';
import { createBackup, extractBackup, snapshotDatabase, verifyBackup } from '../../../src/rollout/backup/index.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import { resolveEnvironment } from '../../../src/rollout/config/environments.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/service/store/migrations/migration-list.js';

const logger = createSilentLogger();

test('backs up release, node_modules, database and config into a zip that `sha256sum -c` accepts from \
the project root', async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  await writeFile(join(root, 'quality-gates-config.json'), '{"defaults":{}}\n');
  const { environment, releaseDir } = await createDeployedEnvironment(root, 'staging', { rows: 321 });
  const clock = createManualClock(Date.UTC(2026, 10, 28, 0, 45, 12, 123));

  const made = await createBackup(environment, { clock, logger, reason: 'pre-deploy' });

  assert.equal(made.file, join(root, 'backups', 'dhash_20261128T004512123Z_staging.zip'));
  assert.equal(made.sha256File, `${made.file}.sha256`);
  assert.equal(
    await readFile(made.sha256File, 'utf8'),
    `${made.sha256}  backups/dhash_20261128T004512123Z_staging.zip\n`,
  );
  const out = execFileSync('sha256sum', ['-c', 'backups/dhash_20261128T004512123Z_staging.zip.sha256'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(out, 'backups/dhash_20261128T004512123Z_staging.zip: OK\n');
  assert.equal(made.sizeBytes, (await stat(made.file)).size);
  assert.deepEqual(readdirSync(join(root, 'backups')).sort(), [
    'dhash_20261128T004512123Z_staging.zip',
    'dhash_20261128T004512123Z_staging.zip.sha256',
  ]);

  const m = made.manifest;
  assert.equal(m.formatVersion, 1);
  assert.equal(m.env, 'staging');
  assert.equal(m.createdAt, '2026-11-28T00:45:12.123Z');
  assert.equal(m.reason, 'pre-deploy');
  assert.equal(m.releaseId, 'r1');
  assert.equal(m.version, '0.1.0');
  assert.equal(m.releaseContentSha256, 'c'.repeat(64));
  assert.equal(m.schemaVersion, LATEST_SCHEMA_VERSION);
  assert.equal(m.database, 'database/dhash.sqlite');
  assert.deepEqual(
    m.entries.map((e) => e.path),
    [
      'config/environment.json',
      'config/quality-gates-config.json',
      'config/service.json',
      'database/dhash.sqlite',
      'release/dist/cli/main.js',
      'release/node_modules/left-pad/bin/cli.js',
      'release/node_modules/left-pad/index.js',
      'release/node_modules/left-pad/logo.png',
      'release/package.json',
      'release/release.json',
    ],
  );
  assert.deepEqual(m.symlinks, [{ path: 'release/node_modules/.bin/left-pad', target: '../left-pad/bin/cli.js' }]);

  const verified = await verifyBackup(made.file, { expectedEnv: 'staging', projectRoot: root });
  assert.deepEqual(verified.problems, []);
  assert.equal(verified.ok, true);
  assert.equal(verified.sha256, made.sha256);

  // Restorable from the zip alone.
  const restored = await extractBackup(made.file, join(root, 'restore', 'one'), {
    expectedEnv: 'staging',
    projectRoot: root,
  });
  assert.equal(restored.releaseDir, join(root, 'restore', 'one', 'release'));
  for (const rel of [
    'dist/cli/main.js',
    'node_modules/left-pad/index.js',
    'node_modules/left-pad/logo.png',
    'release.json',
  ]) {
    assert.deepEqual(await readFile(join(restored.releaseDir!, rel)), await readFile(join(releaseDir, rel)), rel);
  }
  assert.equal(await readlink(join(restored.releaseDir!, 'node_modules/.bin/left-pad')), '../left-pad/bin/cli.js');
  assert.equal((await lstat(join(restored.releaseDir!, 'node_modules/left-pad/bin/cli.js'))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(restored.releaseDir!, 'package.json'))).mode & 0o111, 0);
  const db = new Database(restored.databaseFile!, { readonly: true });
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM backup_rows').get() as { n: number }).n, 321);
  db.close();
  assert.deepEqual(JSON.parse(await readFile(join(restored.configDir, 'service.json'), 'utf8')), { maxPixels: 1000 });
  assert.equal(JSON.parse(await readFile(join(restored.configDir, 'environment.json'), 'utf8')).root, '.dhash/staging');
  assert.deepEqual(readdirSync(join(root, 'restore')), ['one']);
});

test('a second backup in the same millisecond takes the next millisecond instead of overwriting', async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root);
  const clock = createManualClock(Date.UTC(2026, 10, 28, 1, 0, 0, 0));
  const first = await createBackup(environment, { clock, logger });
  const second = await createBackup(environment, { clock, logger });
  assert.equal(basename(first.file), 'dhash_20261128T010000000Z_staging.zip');
  assert.equal(basename(second.file), 'dhash_20261128T010000001Z_staging.zip');
  assert.equal((await verifyBackup(first.file, { projectRoot: root })).ok, true);
  assert.equal((await verifyBackup(second.file, { projectRoot: root })).ok, true);
});

test(`dry-run returns the plan and writes nothing; a real run of an empty environment says there is \
nothing to back up`, async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const clock = createManualClock(Date.UTC(2026, 10, 28, 1, 0, 0, 0));
  const empty = await resolveEnvironment(root, 'production', {});
  const planned = await createBackup(empty, { clock, logger, isDryRun: true });
  assert.equal(planned.isDryRun, true);
  assert.equal(planned.plan.isNothingToBackUp, true);
  assert.equal(planned.plan.file, join(root, 'backups', 'dhash_20261128T010000000Z_production.zip'));
  await assert.rejects(createBackup(empty, { clock, logger }), (error: unknown) => {
    assert.ok(isDhashError(error, 'ENOTHINGTOBACKUP'));
    assert.equal(error.exitCode, 2);
    assert.equal(
      error.message,
      'There is nothing to back up in `production`: no current release and no database under .dhash/production.',
    );
    return true;
  });
  assert.equal(existsSync(join(root, 'backups')), false);

  const { environment } = await createDeployedEnvironment(root, 'staging');
  const plan = (await createBackup(environment, { clock, logger, isDryRun: true })).plan;
  assert.equal(plan.isNothingToBackUp, false);
  assert.equal(plan.release?.releaseId, 'r1');
  assert.equal(plan.release?.fileCount, 6);
  assert.equal(plan.release?.symlinkCount, 1);
  assert.equal(plan.database?.file, environment.databaseFile);
  assert.deepEqual(plan.config, ['config/environment.json', 'config/service.json']);
  assert.equal(existsSync(join(root, 'backups')), false);
});

test('snapshots a database consistently while another connection keeps writing', async (t) => {
  const dir = await createTempDir(t);
  const source = join(dir, 'live.sqlite');
  const setup = new Database(source);
  setup.pragma('journal_mode = WAL');
  createRowsTable(setup, 200_000); // ~45 MB: several backup steps
  setup.close();

  const writer = new Database(source);
  writer.pragma('busy_timeout = 5000');
  const insert = writer.prepare('INSERT INTO backup_rows (payload) VALUES (?)');
  const insertTen = writer.transaction(() => {
    for (let i = 0; i < 10; i++) insert.run(Buffer.alloc(200, 1));
  });
  let batches = 0;
  let writing = true;
  const loop = (async () => {
    while (writing) {
      insertTen();
      batches++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  const snapshot = await snapshotDatabase(source, join(dir, 'snap.sqlite'));
  writing = false;
  await loop;
  writer.close();

  assert.ok(batches > 0, 'the writer wrote during the backup');
  assert.ok(
    snapshot.restarts >= 1,
    `expected the concurrent writes to restart the stepped copy, got ${snapshot.restarts}`,
  );
  const snap = new Database(join(dir, 'snap.sqlite'), { readonly: true });
  const n = (snap.prepare('SELECT COUNT(*) AS n FROM backup_rows').get() as { n: number }).n;
  assert.equal(snap.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal(snap.pragma('journal_mode', { simple: true }), 'delete');
  snap.close();
  // Every committed batch is all-or-nothing in the snapshot, and it holds at most what was written.
  assert.equal((n - 200_000) % 10, 0);
  assert.ok(n >= 200_000 && n <= 200_000 + batches * 10, `row count ${n}`);
});
