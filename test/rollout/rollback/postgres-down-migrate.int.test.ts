// down-migrate on a real PostgreSQL: rehearsed in a rolled-back transaction, then one transaction live after the stop;
// a failing down changes nothing (transactional DDL) and the service is never stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { createTempDir } from '../../helpers/temp-dir.js';
import {
  addLibraryEntries,
  createCurrentRelease,
  createPostgresProject,
  withClient,
} from '../../helpers/postgres-environment.js';
import { createRecordingRollbackContext, NOTES_MIGRATION } from './helpers/down-migrate-fixture.js';
import { runDownMigrate } from '../../../src/rollout/rollback/rollback-switch-back.js';
import { MIGRATIONS, type Migration } from '../../../src/service/store/index.js';
import { applyPendingPostgresMigrations } from '../../../src/service/store/postgres/index.js';

async function setUp(t: Parameters<typeof createTempDir>[0], migration: Migration) {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root);
  const { environment } = project;
  await createCurrentRelease(environment);
  const migrations = [...MIGRATIONS, migration];
  await addLibraryEntries(project.server.url, ['kept-1', 'kept-2']);
  await withClient(project.server.url, (c) => applyPendingPostgresMigrations(c, { migrations }));
  const { calls, ctx } = createRecordingRollbackContext(environment, project.processEnv);
  return { project, migrations, calls, ctx };
}

async function readSchema(url: string): Promise<{ version: number; tables: string[]; entries: number }> {
  return withClient(url, async (c) => {
    const version = (await c.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v;
    const tables = (
      await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    ).rows.map((r) => r.t);
    const entries = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM library_entries')).rows[0]!.n);
    return { version, tables, entries };
  });
}

test('a failing down on PostgreSQL stops in the rehearsal: the live schema is unchanged and the service is never \
stopped', async (t) => {
  const broken: Migration = {
    ...NOTES_MIGRATION,
    name: 'broken_down',
    down: 'DROP TABLE notes; DROP TABLE no_such_table;',
  };
  const { project, migrations, calls, ctx } = await setUp(t, broken);
  const before = await readSchema(project.server.url);
  assert.ok(before.tables.includes('notes'));
  const outcome = await runDownMigrate(ctx, 'r1', [3], migrations);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.isTouched, false);
  assert.match(
    outcome.reason ?? '',
    new RegExp(
      '^the downs failed in a rehearsal \\(the live database is untouched\\): ' +
        'The down of migration 3 \\(broken_down\\) failed',
    ),
  );
  assert.deepEqual(await readSchema(project.server.url), before);
  assert.deepEqual(calls, []);
  assert.deepEqual(
    ctx.steps.timeline.filter((e) => e.status !== 'started').map((e) => [e.step, e.status]),
    [['rollback:down-rehearse', 'failed']],
  );
});

test('the downs are rehearsed, then run on the live PostgreSQL in one transaction after the stop, then current \
switches back; the data is kept', async (t) => {
  const { project, migrations, calls, ctx } = await setUp(t, NOTES_MIGRATION);
  const outcome = await runDownMigrate(ctx, 'r1', [3], migrations);
  assert.deepEqual(
    ctx.steps.timeline
      .filter((e) => e.status === 'succeeded')
      .map((e) => [e.step, e.detail?.replace(/ \(\d+ ms\)$/, '')]),
    [
      ['rollback:down-rehearse', 'in a rolled-back transaction: schema 3 → 2 (3 reverted)'],
      ['rollback:stop', 'service stopped'],
      ['rollback:down-migrate', 'live database: schema 3 → 2 in one transaction'],
      ['rollback:switch', 'current → releases/r1 (database kept)'],
      ['rollback:restart', 'restarted'],
    ],
  );
  assert.deepEqual(calls, ['stop', 'restart']);
  assert.equal(await readlink(ctx.environment.currentLink), 'releases/r1');
  const after = await readSchema(project.server.url);
  assert.equal(after.version, 2);
  assert.equal(after.tables.includes('notes'), false);
  assert.equal(after.entries, 2, 'the data is kept');
  // Nothing serves in this test, so the health wait fails: rollBackDeploy then falls back to restore.
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason ?? '', /^health check failed: /);
});
