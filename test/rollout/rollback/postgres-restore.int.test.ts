// The restore strategy on PostgreSQL against a real server and a real service: pg_restore into a fresh database,
// switch-over by rename with the pre-rollback database kept, carry-forward; a failing restore changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { getFreePort } from '../../helpers/free-port.js';
import { createInProcessDriver } from '../../helpers/in-process-driver.js';
import {
  createCurrentRelease,
  createPostgresProject,
  listLabels,
  PG_TEST_PASSWORD,
  withClient,
  type PostgresProject,
} from '../../helpers/postgres-environment.js';
import { createBackup } from '../../../src/rollout/backup/index.js';
import { rollbackFromBackup } from '../../../src/rollout/rollback/rollback-from-backup.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';

const clock = createSystemClock();
const logger = createSilentLogger();

async function setUp(t: Parameters<typeof createTempDir>[0]) {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { servicePort: await getFreePort() });
  await createCurrentRelease(project.environment);
  const driver = createInProcessDriver(project.beforeServerStops, project.environment, project.server.url);
  await driver.start();
  return { project, driver };
}

async function post(project: PostgresProject, label: string, hash: string): Promise<number> {
  const response = await fetch(`${project.environment.baseUrl}/v1/library`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ label, hash, source: 'test' }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { id: number }).id;
}

async function listDatabases(project: PostgresProject): Promise<string[]> {
  return withClient(project.server.adminUrl, async (c) =>
    (
      await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'dhash%' ORDER BY 1")
    ).rows.map((r) => r.datname),
  );
}

/** A forced (no confirmation) restore of `project` from `backupFile` through the in-process driver. */
function rollBack(
  project: PostgresProject,
  driver: ReturnType<typeof createInProcessDriver>,
  backupFile: string,
  options: { isCarryForward: boolean },
) {
  return rollbackFromBackup({
    environment: project.environment,
    backupFile,
    force: true,
    isDryRun: false,
    isCarryForward: options.isCarryForward,
    clock,
    logger,
    driver,
    processEnv: project.processEnv,
  });
}

const withDatabase = (url: string, name: string) => url.replace(/\/dhash$/, `/${name}`);

test('restores into a fresh database, switches it in by rename, keeps the pre-rollback database and carries \
forward an entry POSTed after the backup', async (t) => {
  const { project, driver } = await setUp(t);
  await post(project, 'before-backup', '0123456789abcdef');
  const backup = await createBackup(project.environment, { clock, logger, processEnv: project.processEnv });
  assert.equal(backup.manifest.changeLogSeq, 1);
  await post(project, 'after-backup', '1123456789abcdef');

  const result = await rollBack(project, driver, backup.file, { isCarryForward: true });
  assert.equal(result.ok, true, result.message);
  assert.match(result.preRollbackDatabase ?? '', /^dhash_prerollback_\d{8}t\d{9}z$/);
  assert.match(
    result.message,
    new RegExp(`the database before the rollback is kept as ${result.preRollbackDatabase}$`),
  );
  assert.deepEqual(
    result.carryForward?.carried.map((c) => c.summary),
    ['library_entry add 2 → 2 (after-backup)'],
  );
  const steps = result.timeline.map((e) => `${e.step}:${e.status}`).filter((s) => !s.endsWith(':started'));
  assert.deepEqual(steps.slice(steps.indexOf('rollback:extract:succeeded')), [
    'rollback:extract:succeeded',
    'rollback:restore-database:succeeded',
    'rollback:stop:succeeded',
    'rollback:read-changes:succeeded',
    'rollback:restore:succeeded',
    'rollback:carry-forward:succeeded',
    'rollback:start-service:succeeded',
    'rollback:healthcheck:succeeded',
    'rollback:smoke:succeeded',
    'rollback:finish:succeeded',
  ]);

  // The live name now holds the backup's data plus the carried entry, and the service serves it.
  assert.deepEqual(await listLabels(project.server.url), ['before-backup', 'after-backup']);
  const served = (await (await fetch(`${project.environment.baseUrl}/v1/library`)).json()) as {
    items: { label: string }[];
  };
  assert.deepEqual(
    served.items.map((i) => i.label).filter((l) => !l.startsWith('smoke')),
    ['before-backup', 'after-backup'],
  );
  // The carried change was written through the store: it has its own change_log row in the restored database.
  const log = await withClient(
    project.server.url,
    async (c) =>
      (await c.query<{ seq: string; kind: string }>('SELECT seq::text, kind FROM change_log ORDER BY seq')).rows,
  );
  assert.deepEqual(log.slice(0, 2), [
    { seq: '1', kind: 'add' },
    { seq: '2', kind: 'add' },
  ]);
  // The database as it was at the rollback is kept, untouched, under its new name; no half-restored copy is left.
  const aside = withDatabase(project.server.url, result.preRollbackDatabase!);
  assert.deepEqual(await listLabels(aside), ['before-backup', 'after-backup']);
  assert.deepEqual(await listDatabases(project), ['dhash', result.preRollbackDatabase!]);
  assert.equal(JSON.stringify(result).includes(PG_TEST_PASSWORD), false);
});

test('a pg_restore that fails leaves the live database serving untouched and drops the fresh copy \
(exit 1)', async (t) => {
  const { project, driver } = await setUp(t);
  await post(project, 'kept', '2123456789abcdef');
  // A superuser-only extension in the live database: the dump names it, and pg_restore as the application role
  // cannot create it in the fresh database ("permission denied").
  await withClient(project.server.adminUrl.replace(/\/postgres$/, '/dhash'), (c) => c.query('CREATE EXTENSION dblink'));
  const backup = await createBackup(project.environment, { clock, logger, processEnv: project.processEnv });
  await post(project, 'written-after', '3123456789abcdef');

  await assert.rejects(
    rollBack(project, driver, backup.file, { isCarryForward: true }),
    (error: Error & { code?: string; exitCode?: number }) => {
      assert.equal(error.code, 'EPGRESTOREFAILED');
      assert.equal(error.exitCode, 1);
      assert.match(
        error.message,
        new RegExp(
          '^Restoring the PostgreSQL database dhash_restore_\\d{8}t\\d{9}z failed at pg_restore: ' +
            'pg_restore \\(exit 1\\): .*permission denied to create extension "dblink"',
        ),
      );
      assert.equal(error.message.includes(PG_TEST_PASSWORD), false);
      return true;
    },
  );
  assert.equal(driver.startCount, 1, 'the service was never stopped');
  assert.equal((await fetch(project.environment.healthUrl)).status, 200);
  assert.deepEqual(await listLabels(project.server.url), ['kept', 'written-after']);
  assert.deepEqual(await listDatabases(project), ['dhash']);
});

test('a SQLite backup is refused for a PostgreSQL environment (EBACKUPENGINEMISMATCH, exit 3), dry run \
included, nothing changed', async (t) => {
  const { project, driver } = await setUp(t);
  await post(project, 'live', '5123456789abcdef');
  // A verified SQLite backup of an environment also called staging, under the same relative path.
  const other = await createTempDir(t);
  await createBackupProject(other);
  const sqlite = await createDeployedEnvironment(other, 'staging', { rows: 1 });
  const made = await createBackup(sqlite.environment, { clock, logger });
  const name = basename(made.file);
  await mkdir(project.environment.backupsDir, { recursive: true });
  await copyFile(made.file, join(project.environment.backupsDir, name));
  await copyFile(`${made.file}.sha256`, join(project.environment.backupsDir, `${name}.sha256`));
  const cli = (args: string[]) => runCliForTest(args, { cwd: project.projectRoot, processEnv: project.processEnv });
  for (const extra of [['--dry-run'], ['--force']]) {
    const result = await cli(['rollback', '--backup', `backups/${name}`, '--env', 'staging', ...extra]);
    assert.equal(result.exitCode, 3, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^dhash: The backup backups/${name} holds a SQLite database, but \`staging\` keeps its data in PostgreSQL\\.`,
      ),
    );
  }
  assert.equal(driver.startCount, 1);
  assert.deepEqual(await listLabels(project.server.url), ['live']);
  assert.deepEqual(await listDatabases(project), ['dhash']);
});

test('a live database the role does not own is refused before the stop: the rename could not happen, so \
nothing is restored or stopped', async (t) => {
  const { project, driver } = await setUp(t);
  await post(project, 'owned-elsewhere', '6123456789abcdef');
  const backup = await createBackup(project.environment, { clock, logger, processEnv: project.processEnv });
  await withClient(project.server.adminUrl, (c) => c.query('ALTER DATABASE dhash OWNER TO postgres'));
  await assert.rejects(rollBack(project, driver, backup.file, { isCarryForward: false }), {
    code: 'EPGRESTOREFAILED',
    message: new RegExp(
      'failed at check the switch-over is allowed: ' +
        'the role dhash does not own the database dhash \\(its owner is postgres\\)',
    ),
  });
  assert.equal(driver.startCount, 1, 'the service was never stopped');
  assert.equal((await fetch(project.environment.healthUrl)).status, 200);
  assert.deepEqual(await listDatabases(project), ['dhash']);
});
