// A PostgreSQL environment end to end with the real CLI, built releases and the process driver: deploy (migrations
// on PostgreSQL), back up, deploy again, roll back (restore + carry-forward), and the previous release serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { useBuiltReleases } from '../../helpers/built-releases.js';
import {
  callServiceApi,
  createDeployProject,
  readCurrentReleaseId,
  type DeployProject,
} from '../../helpers/deploy-project.js';
import { startPostgres } from '../../helpers/postgres-server.js';
import { listLabels, PG_TEST_PASSWORD, withClient } from '../../helpers/postgres-environment.js';

const releases = useBuiltReleases('dhash-pg-deploy-');

/** The deploy project's `local` environment moved onto PostgreSQL (urlEnv DHASH_DATABASE_URL). */
async function usePostgres(project: DeployProject): Promise<void> {
  const file = join(project.root, 'environments.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as { environments: Record<string, Record<string, unknown>> };
  config.environments.local!.database = { engine: 'postgres' };
  await writeFile(file, JSON.stringify(config, null, 2));
}

test('deploy, back up, deploy again and roll back on PostgreSQL: the previous release serves the backup plus the \
entry written since, the pre-rollback database is kept', async (t) => {
  const server = await startPostgres({ t, password: PG_TEST_PASSWORD });
  const project = await createDeployProject(t);
  await usePostgres(project);
  const processEnv = { DHASH_DATABASE_URL: server.url };
  const cli = async (args: string[]) => {
    const result = await runCliForTest(args, { cwd: project.root, processEnv });
    assert.equal((result.stdout + result.stderr).includes(PG_TEST_PASSWORD), false, `${args[0]} printed the password`);
    return result;
  };

  const first = await cli(['deploy', '--env', 'local', '--release', releases.releaseA]);
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /deploy:migrate.*schema 0 → 2 \(2 applied\)/);
  const health = (await callServiceApi(project, 'GET', '/health')) as Record<string, unknown>;
  assert.equal(health.status, 'ok');
  assert.equal(JSON.stringify(health).includes(PG_TEST_PASSWORD), false);
  await callServiceApi(project, 'POST', '/v1/library', { label: 'before-backup', hash: '0123456789abcdef' });

  const backup = await cli(['backup', '--env', 'local']);
  assert.equal(backup.exitCode, 0, backup.stdout + backup.stderr);
  const backupFile = /backups\/dhash_\w+_local\.zip/.exec(backup.stdout)?.[0];
  assert.ok(backupFile, backup.stdout);

  const second = await cli(['deploy', '--env', 'local', '--release', releases.releaseB]);
  assert.equal(second.exitCode, 0, second.stdout + second.stderr);
  assert.equal(await readCurrentReleaseId(project), basename(releases.releaseB));
  await callServiceApi(project, 'POST', '/v1/library', { label: 'after-backup', hash: '1123456789abcdef' });

  const dry = await cli(['rollback', '--backup', backupFile, '--env', 'local', '--dry-run']);
  assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
  const rolled = await cli(['rollback', '--backup', backupFile, '--env', 'local', '--carry-forward', '--force']);
  assert.equal(rolled.exitCode, 0, rolled.stdout + rolled.stderr);
  const aside = /the database before the rollback is kept as (dhash_prerollback_\w+)/.exec(rolled.stdout)?.[1];
  assert.ok(aside, rolled.stdout);
  assert.match(rolled.stdout, /rollback:restore-database .*pg_restore into dhash_restore_\w+/);
  assert.match(rolled.stdout, /^ {2}carried forward #\d+ library_entry add \d+ → \d+ \(after-backup\)$/m);

  // The previous release serves, from the restored database with the carried entry; the service is PostgreSQL's.
  assert.equal(await readCurrentReleaseId(project), basename(releases.releaseA));
  const labels = ((await callServiceApi(project, 'GET', '/v1/library')).items as { label: string }[]).map(
    (i) => i.label,
  );
  assert.deepEqual(
    labels.filter((l) => !l.startsWith('smoke')),
    ['before-backup', 'after-backup'],
  );
  assert.deepEqual(
    (await listLabels(server.url)).filter((l) => !l.startsWith('smoke')),
    ['before-backup', 'after-backup'],
  );
  const asideLabels = await listLabels(server.url.replace(/\/dhash$/, `/${aside}`));
  assert.ok(asideLabels.includes('after-backup'), 'the pre-rollback database still holds what was live');
  const databases = await withClient(
    server.adminUrl,
    async (c) =>
      (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'dhash%' ORDER BY 1"))
        .rows,
  );
  assert.deepEqual(
    databases.map((d) => d.datname),
    ['dhash', aside],
  );
  const serviceLog = await readFile(join(project.root, '.dhash', 'local', 'logs', 'service.log'), 'utf8');
  assert.equal(serviceLog.includes(PG_TEST_PASSWORD), false, 'the service log holds the password');
  assert.match(serviceLog, /postgres:\/\/dhash@127\.0\.0\.1:\d+\/dhash/);
});
