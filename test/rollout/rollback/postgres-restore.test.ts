// The pure parts of the PostgreSQL restore: side-database names within 63 bytes, the restored facts against the
// manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithBackup, createSideDatabaseName } from '../../../src/rollout/rollback/postgres-restore.js';
import { createBackupManifest } from '../../../src/rollout/core/backup-manifest.js';

const atMs = Date.UTC(2026, 10, 28, 5, 6, 7, 8);

test('names the fresh and the set-aside database after the live one and the time, within 63 bytes', () => {
  assert.equal(createSideDatabaseName('dhash', 'restore', atMs), 'dhash_restore_20261128t050607008z');
  assert.equal(createSideDatabaseName('dhash', 'prerollback', atMs), 'dhash_prerollback_20261128t050607008z');
  const long = 'd'.repeat(60);
  const name = createSideDatabaseName(long, 'prerollback', atMs);
  assert.equal(Buffer.byteLength(name), 63);
  assert.ok(name.endsWith('_prerollback_20261128t050607008z'));
});

test('lists every difference between the restored database and the manifest', () => {
  const manifest = createBackupManifest({
    env: 'staging',
    createdAtMs: atMs,
    release: null,
    schemaVersion: 2,
    changeLogSeq: 4,
    hasDatabase: true,
    engine: 'postgres',
    postgres: {
      database: 'dhash',
      serverVersion: '15',
      format: 'custom',
      rowCounts: { library_entries: 3, change_log: 4 },
    },
    entries: [],
    symlinks: [],
  });
  const facts = {
    database: 'dhash_restore_x',
    serverVersion: '15',
    schemaVersion: 2,
    changeLogSeq: 4,
    rowCounts: { library_entries: 3, change_log: 4 },
  };
  assert.deepEqual(compareWithBackup(facts, manifest), []);
  assert.deepEqual(
    compareWithBackup({ ...facts, schemaVersion: 1, changeLogSeq: 3, rowCounts: { library_entries: 2 } }, manifest),
    [
      'schema version 1, the backup recorded 2',
      'change log seq 3, the backup recorded 4',
      'library_entries has 2 rows, the backup recorded 3',
      'change_log has no table and no rows, the backup recorded 4',
    ],
  );
});
