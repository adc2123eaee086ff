import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, getMigrationChecksum } from '../../../src/service/store/index.js';
import { hashDatabaseFiles } from '../../helpers/database-files.js';

const checksum1 = getMigrationChecksum(MIGRATIONS[0]);

test('migrate (up by default) creates and migrates the database, then status lists it as applied', async (t) => {
  const dir = await createTempDir(t);
  const up = await runCliForTest(['migrate', '--db', 'data/db.sqlite'], { cwd: dir });
  assert.equal(up.exitCode, 0, up.stderr);
  assert.match(up.stdout, new RegExp(`^database: ${join(dir, 'data', 'db.sqlite')}$`, 'm'));
  assert.match(
    up.stdout,
    new RegExp(
      `^migrated schema version 0 → ${LATEST_SCHEMA_VERSION} \\(${MIGRATIONS.length} migrations applied\\)$`,
      'm',
    ),
  );
  assert.match(up.stdout, new RegExp(`^001 +initial +applied +${checksum1}$`, 'm'));
  const again = await runCliForTest(['migrate', 'up', '--db', 'data/db.sqlite'], { cwd: dir });
  assert.match(again.stdout, new RegExp(`^schema version ${LATEST_SCHEMA_VERSION} is current; nothing to apply$`, 'm'));
  const status = await runCliForTest(['migrate', 'status', '--db', 'data/db.sqlite'], { cwd: dir });
  assert.equal(status.exitCode, 0);
  assert.match(
    status.stdout,
    new RegExp(
      `^schema version: ${LATEST_SCHEMA_VERSION} \\(this release: ${LATEST_SCHEMA_VERSION}\\); 0 pending migrations$`,
      'm',
    ),
  );
  assert.match(status.stdout, new RegExp(`^001 +initial +applied +${checksum1}$`, 'm'));
});

test('the default database is .dhash/dhash.sqlite under the project root', async (t) => {
  const dir = await createTempDir(t);
  writeFileSync(join(dir, 'environments.json'), JSON.stringify({ environments: {} }));
  const result = await runCliForTest(['migrate'], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(existsSync(join(dir, '.dhash', 'dhash.sqlite')));
});

test('dry run on a missing database reports the plan and creates no file', async (t) => {
  const dir = await createTempDir(t);
  const result = await runCliForTest(['migrate', '--db', 'x/db.sqlite', '--dry-run'], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(
      `^database does not exist yet; ${MIGRATIONS.length} migrations would create schema version ` +
        `${LATEST_SCHEMA_VERSION}$`,
      'm',
    ),
  );
  assert.match(result.stdout, /^ +→ created table library_entries; 0 rows changed$/m);
  assert.match(result.stdout, new RegExp(`^resulting schema version: ${LATEST_SCHEMA_VERSION}$`, 'm'));
  assert.equal(existsSync(join(dir, 'x')), false);
});

test('--env uses the environment database; an unknown env exits 2 listing the known ones', async (t) => {
  const dir = await createTempDir(t);
  writeFileSync(
    join(dir, 'environments.json'),
    JSON.stringify({ environments: { staging: { root: 'envs/staging', service: { host: '127.0.0.1', port: 9999 } } } }),
  );
  const dry = await runCliForTest(['migrate', '--env', 'staging', '--dry-run'], { cwd: dir });
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(`dry run: nothing is changed in ${join(dir, 'envs', 'staging', 'shared', 'dhash.sqlite')}`),
  );
  assert.equal(existsSync(join(dir, 'envs')), false);
  const unknown = await runCliForTest(['migrate', '--env', 'prod'], { cwd: dir });
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /Unknown environment `prod` given to --env\.\nKnown environments: local, staging\./);
});

test('bad usage exits 2 naming the argument', async (t) => {
  const dir = await createTempDir(t);
  const action = await runCliForTest(['migrate', 'down', '--db', 'a.sqlite'], { cwd: dir });
  assert.equal(action.exitCode, 2);
  assert.match(action.stderr, /Expected the `action` option to be `status` or `up`, got `down` \(string\)\./);
  const both = await runCliForTest(['migrate', '--db', 'a.sqlite', '--env', 'local'], { cwd: dir });
  assert.equal(both.exitCode, 2);
  assert.match(both.stderr, /`--db` option/);
  assert.equal(existsSync(join(dir, 'a.sqlite')), false);
});

test('an edited applied migration exits 3 and leaves the file unchanged', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'db.sqlite');
  await runCliForTest(['migrate', '--db', file], { cwd: dir });
  const db = new Database(file);
  db.prepare("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1").run();
  db.close();
  const before = hashDatabaseFiles(file);
  for (const argv of [
    ['migrate', '--db', file],
    ['migrate', '--db', file, '--dry-run'],
    ['migrate', 'status', '--db', file],
  ]) {
    const result = await runCliForTest(argv, { cwd: dir });
    assert.equal(result.exitCode, 3, argv.join(' '));
    assert.match(result.stderr, /Migration 1 \(initial\) was edited after it was applied to this database\./);
    assert.deepEqual(hashDatabaseFiles(file), before, argv.join(' '));
  }
});

test('a failing migration exits 1 and leaves the database unchanged', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'db.sqlite');
  // A stray table of the same name makes migration 1 fail after its first statements would have run.
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE review_items (x)');
  db.close();
  const before = hashDatabaseFiles(file);
  const result = await runCliForTest(['migrate', '--db', file], { cwd: dir });
  assert.equal(result.exitCode, 1);
  assert.match(
    result.stderr,
    /Migration 1 \(initial\) failed and was rolled back\.\nSQLite said: table review_items already exists\./,
  );
  assert.match(result.stdout, /^001 +initial +pending /m);
  assert.deepEqual(hashDatabaseFiles(file), before);
  const dry = await runCliForTest(['migrate', '--db', file, '--dry-run'], { cwd: dir });
  assert.equal(dry.exitCode, 1);
  assert.match(
    dry.stdout,
    /^FAILED: migration 1 \(initial\) at CREATE TABLE review_items .*: table review_items already exists$/m,
  );
});
