// down-migrate on real database files and release folders: rehearsed on
// a copy, then one transaction live; a failing down changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { hashDatabaseFiles } from '../../helpers/database-files.js';
import { createRecordingRollbackContext, NOTES_MIGRATION } from './helpers/down-migrate-fixture.js';
import { runDownMigrate } from '../../../src/rollout/rollback/rollback-switch-back.js';
import {
  MIGRATIONS,
  applyPendingMigrations,
  closeDatabase,
  getSchemaVersion,
  openDatabase,
  type Migration,
} from '../../../src/service/store/index.js';

async function setup(t: Parameters<typeof createTempDir>[0], migration: Migration) {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root, 'staging', { rows: 5 });
  const migrations = [...MIGRATIONS, migration];
  const db = openDatabase(environment.databaseFile);
  applyPendingMigrations(db, { migrations });
  closeDatabase(db);
  const { calls, ctx } = createRecordingRollbackContext(environment);
  return { environment, migrations, calls, ctx };
}

test(`a failing down stops on the copy: the live database stays byte-identical, the service is never \
stopped, and the reason is clear`, async (t) => {
  const broken: Migration = {
    ...NOTES_MIGRATION,
    name: 'broken_down',
    down: 'DROP TABLE notes; DROP TABLE no_such_table;',
  };
  const { environment, migrations, calls, ctx } = await setup(t, broken);
  const before = hashDatabaseFiles(environment.databaseFile);
  const outcome = await runDownMigrate(ctx, 'r1', [3], migrations);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.isTouched, false);
  assert.equal(
    outcome.reason,
    'the downs failed on a copy (the live database is untouched): The down of migration 3 (broken_down) ' +
      'failed, so no migration was reverted.',
  );
  assert.deepEqual(hashDatabaseFiles(environment.databaseFile), before);
  assert.deepEqual(calls, []);
  assert.deepEqual(
    ctx.steps.timeline.filter((e) => e.status !== 'started').map((e) => [e.step, e.status]),
    [['rollback:down-rehearse', 'failed']],
  );
});

test(`the downs run on a copy, then on the live database in one transaction after the stop, then \
current switches back`, async (t) => {
  const { environment, migrations, calls, ctx } = await setup(t, NOTES_MIGRATION);
  const outcome = await runDownMigrate(ctx, 'r1', [3], migrations);
  assert.deepEqual(
    ctx.steps.timeline.filter((e) => e.status === 'succeeded').map((e) => e.step),
    ['rollback:down-rehearse', 'rollback:stop', 'rollback:down-migrate', 'rollback:switch', 'rollback:restart'],
  );
  assert.deepEqual(calls, ['stop', 'restart']);
  assert.equal(await readlink(environment.currentLink), 'releases/r1');
  const db = openDatabase(environment.databaseFile);
  t.after(() => closeDatabase(db));
  assert.equal(getSchemaVersion(db), 2);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'notes'").get(), undefined);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM backup_rows').get() as { n: number }).n, 5, 'the data is kept');
  // Nothing serves in this test, so the health wait fails: rollBackDeploy then falls back to restore.
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason ?? '', /^health check failed: /);
});
