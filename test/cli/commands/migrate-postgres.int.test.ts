// `dhash migrate --env E` on a PostgreSQL environment against a real server: status, --dry-run (changes nothing), up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createPostgresProject, PG_TEST_PASSWORD, withClient } from '../../helpers/postgres-environment.js';

/** Every relation, column and constraint in the public schema: equal lists mean an unchanged schema. */
async function describeSchema(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ item: string }>(
      `SELECT c.relkind::text || ' ' || c.relname
           || coalesce(' ' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), '') AS item
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE n.nspname = 'public' ORDER BY 1`,
    );
    return rows.map((r) => r.item);
  });
}

test('migrate --env on PostgreSQL: status lists pending, --dry-run changes nothing, up applies both, the \
password never shown', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { isMigrated: false });
  const cli = (args: string[]) => runCliForTest(args, { cwd: root, processEnv: project.processEnv });
  const shownUrl = `postgres://dhash@127.0.0.1:${project.server.port}/dhash`;

  const status = await cli(['migrate', 'status', '--env', 'staging']);
  assert.equal(status.exitCode, 0, status.stderr);
  assert.deepEqual(status.stdout.split('\n').slice(0, 2), [
    `database: ${shownUrl}`,
    'schema version: 0 (this release: 2); 2 pending migrations',
  ]);
  assert.match(status.stdout, /^001 {6}initial {4}pending {2}[0-9a-f]{64}$/m);

  const before = await describeSchema(project.server.url);
  assert.deepEqual(before, []);
  const dry = await cli(['migrate', '--env', 'staging', '--dry-run']);
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.equal(dry.stdout.split('\n')[0], `dry run: nothing is changed in ${shownUrl}`);
  assert.match(dry.stdout, /\nschema version 0; 2 pending migrations would bring it to 2\n/);
  assert.match(dry.stdout, /\n {6}→ created table library_entries; .*0 rows changed\n/);
  assert.match(dry.stdout, /\nresulting schema version: 2\n$/);
  assert.deepEqual(await describeSchema(project.server.url), before, 'the dry run left the schema as it was');

  const up = await cli(['migrate', 'up', '--env', 'staging']);
  assert.equal(up.exitCode, 0, up.stderr);
  assert.match(up.stdout, /\nmigrated schema version 0 → 2 \(2 migrations applied\)\n/);
  assert.match(up.stdout, /^002 {6}change_log applied {2}[0-9a-f]{64}$/m);
  const migrated = await describeSchema(project.server.url);
  assert.ok(migrated.includes('r change_log seq:bigint'), migrated.join('\n'));

  const again = await cli(['migrate', '--env', 'staging', '--dry-run']);
  assert.match(again.stdout, /\nschema version 2 is current; nothing would be applied\n/);
  assert.deepEqual(await describeSchema(project.server.url), migrated);
  for (const output of [status, dry, up, again])
    assert.equal((output.stdout + output.stderr).includes(PG_TEST_PASSWORD), false);
});

test('migrate without --env reads DHASH_DATABASE_URL as serve does, and refuses it together with --db', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { isMigrated: false });
  const status = await runCliForTest(['migrate', 'status'], { cwd: root, processEnv: project.processEnv });
  assert.equal(status.exitCode, 0, status.stderr);
  assert.match(status.stdout, /^database: postgres:\/\/dhash@127\.0\.0\.1:\d+\/dhash\n/);
  const both = await runCliForTest(['migrate', 'status', '--db', 'x.sqlite'], {
    cwd: root,
    processEnv: project.processEnv,
  });
  assert.equal(both.exitCode, 2);
  assert.match(
    both.stderr,
    /Expected the `--db` option to be absent when DHASH_DATABASE_URL is set \(unset it to migrate the SQLite file\)/,
  );
  const missing = await runCliForTest(['migrate', 'status', '--env', 'staging'], { cwd: root, processEnv: {} });
  assert.equal(missing.exitCode, 2);
  assert.match(
    missing.stderr,
    /The environment `staging` keeps its data in PostgreSQL, but DHASH_DATABASE_URL is not set/,
  );
});
