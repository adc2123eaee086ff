// The deploy's pre-migration copy on a real PostgreSQL: taken before the migration, put back by the switch-back with
// the migrated database kept aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createTempDir } from '../../helpers/temp-dir.js';
import {
  addLibraryEntries,
  createPostgresProject,
  listLabels,
  withClient,
} from '../../helpers/postgres-environment.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import {
  removePreMigrateSnapshot,
  restorePreMigrateSnapshot,
  takePreMigrateSnapshot,
} from '../../../src/rollout/deploy/pre-migrate-snapshot.js';
import { MIGRATIONS, type Migration } from '../../../src/service/store/index.js';
import { applyPendingPostgresMigrations } from '../../../src/service/store/postgres/index.js';

const notes: Migration = {
  version: 3,
  name: 'add_notes',
  sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY);',
};

const readVersion = (url: string) =>
  withClient(
    url,
    async (c) => (await c.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v,
  );

test('a switch-back puts the pre-migration dump back by rename and keeps the migrated database aside', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root);
  await addLibraryEntries(project.server.url, ['one', 'two']);
  const processEnv = project.processEnv;
  const snapshot = await takePreMigrateSnapshot(project.environment, 'staging-20261128T000000000Z', processEnv);
  assert.equal(snapshot?.engine, 'postgres');
  assert.match(snapshot!.file, /\/state\/pre-migrate-staging-20261128T000000000Z\.pgdump$/);
  await withClient(project.server.url, (c) =>
    applyPendingPostgresMigrations(c, { migrations: [...MIGRATIONS, notes] }),
  );
  await addLibraryEntries(project.server.url, ['written-by-the-new-release']);
  assert.equal(await readVersion(project.server.url), 3);

  const note = await restorePreMigrateSnapshot(project.environment, snapshot!, {
    clock: createSystemClock(),
    processEnv,
  });
  const aside = /the migrated database is kept as (dhash_prerollback_\w+)$/.exec(note)?.[1];
  assert.ok(aside, note);
  assert.equal(await readVersion(project.server.url), 2);
  assert.deepEqual(await listLabels(project.server.url), ['one', 'two']);
  const asideUrl = project.server.url.replace(/\/dhash$/, `/${aside}`);
  assert.equal(await readVersion(asideUrl), 3);
  assert.deepEqual(await listLabels(asideUrl), ['one', 'two', 'written-by-the-new-release']);
  await removePreMigrateSnapshot(snapshot);
  assert.equal(existsSync(snapshot!.file), false);
});

test('no copy is taken of a PostgreSQL database without the service schema', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { isMigrated: false });
  assert.equal(await takePreMigrateSnapshot(project.environment, 'staging-x', project.processEnv), undefined);
});
