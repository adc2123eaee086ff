// Preflight's backup estimate on a real PostgreSQL: the database counts at pg_database_size (the dump's upper bound),
// not 0, so a backup folder too small for the dump is refused before anything changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { mountTmpfs } from '../../helpers/tmpfs.js';
import {
  createCurrentRelease,
  createPostgresProject,
  PG_TEST_PASSWORD,
  withClient,
} from '../../helpers/postgres-environment.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../../src/rollout/config/environments.js';
import { runPreflight, type PreflightCheck } from '../../../src/rollout/deploy/preflight.js';
import { getBackupNeededBytes } from '../../../src/rollout/core/disk-space.js';
import { createTargetDriver } from '../../../src/rollout/target/index.js';
import { getFreeBytes, getTreeSizeBytes } from '../../../src/lib/no-space.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';

const MB = 1024 * 1024;

/** The staging environment with its backups in `backupsDir`, resolved with `processEnv`. */
async function useBackupsDir(projectRoot: string, backupsDir: string, processEnv: Record<string, string>) {
  const file = join(projectRoot, 'environments.json');
  const config = JSON.parse(await readFile(file, 'utf8'));
  config.environments.staging.backups = { dir: backupsDir };
  await writeFile(file, JSON.stringify(config, null, 2));
  return resolveEnvironment(projectRoot, 'staging', processEnv);
}

async function runBackupPreflight(environment: ResolvedEnvironment): Promise<PreflightCheck> {
  const clock = createSystemClock();
  const report = await runPreflight({
    environment,
    driver: createTargetDriver(environment, { clock, logger: createSilentLogger(), processEnv: {} }),
    clock,
    force: false,
    currentReleaseId: 'r1',
    releaseCheck: { name: 'preflight:release', ok: true, detail: 'release r2' },
    isBackupPlanned: true,
  });
  const check = report.checks.find((c) => c.name === 'preflight:disk-backup');
  assert.ok(check, JSON.stringify(report.checks));
  return check;
}

const getDatabaseBytes = (url: string) =>
  withClient(url, async (c) => Number((await c.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n));

test('the backup estimate counts the PostgreSQL database at pg_database_size and names it', async (t) => {
  const project = await createPostgresProject(t, await createTempDir(t));
  await withClient(project.server.url, (c) =>
    c.query(
      "INSERT INTO library_entries (label, hash, source, created_at) SELECT 'e' || i, lpad(to_hex(i), 16, '0'), " +
        "'fixture', '2026-11-28T00:00:00Z' FROM generate_series(1, 20000) AS i",
    ),
  );
  await createCurrentRelease(project.environment);
  const check = await runBackupPreflight(project.environment);
  const databaseBytes = await getDatabaseBytes(project.server.url);
  assert.ok(databaseBytes > 8 * MB, `a database of ${databaseBytes} bytes`);
  const releaseBytes = await getTreeSizeBytes(join(project.environment.releasesDir, 'r1'));
  const neededMb = Math.ceil(getBackupNeededBytes(databaseBytes, releaseBytes) / MB);
  assert.equal(check.ok, true, check.detail);
  assert.equal(check.isWarning, undefined);
  assert.match(
    check.detail,
    new RegExp(
      `^\\d+ MB free in ${project.environment.backupsDir}, ${neededMb} MB needed to write the pre-deploy backup ` +
        `\\(database ${Math.ceil(databaseBytes / MB)} MB by pg_database_size\\)$`,
    ),
  );
});

test('a backup folder that would hold the release but not the dump is refused (ENOSPACE, exit 3)', async (t) => {
  const project = await createPostgresProject(t, await createTempDir(t));
  await createCurrentRelease(project.environment);
  const backupsDir = await mountTmpfs(t, 24);
  const environment = await useBackupsDir(project.projectRoot, backupsDir, project.processEnv);
  const databaseBytes = await getDatabaseBytes(project.server.url);
  const releaseBytes = await getTreeSizeBytes(join(environment.releasesDir, 'r1'));
  const freeBytes = (await getFreeBytes(backupsDir))!;
  // The boundary: counted at 0 bytes (the SQLite-only estimate), this folder would have passed.
  assert.ok(getBackupNeededBytes(0, releaseBytes) <= freeBytes, 'the release alone fits');
  assert.ok(getBackupNeededBytes(databaseBytes, releaseBytes) > freeBytes, 'the dump does not');

  const check = await runBackupPreflight(environment);
  assert.equal(check.ok, false);
  assert.equal(check.exitCode, 3);
  assert.equal(check.error?.code, 'ENOSPACE');
  assert.equal(
    check.error?.message,
    `Not enough free space in ${backupsDir} to write the pre-deploy backup ` +
      `(database ${Math.ceil(databaseBytes / MB)} MB by pg_database_size).`,
  );
});

test('an unreachable database is a warning naming why (the release alone counted), never the password', async (t) => {
  const project = await createPostgresProject(t, await createTempDir(t));
  await createCurrentRelease(project.environment);
  const wrongPassword = project.server.url.replace(PG_TEST_PASSWORD, 'wrong-pw-4242');
  const environment = await resolveEnvironment(project.projectRoot, 'staging', { DHASH_DATABASE_URL: wrongPassword });
  const check = await runBackupPreflight(environment);
  assert.equal(check.ok, true);
  assert.equal(check.isWarning, true);
  assert.match(check.detail, /, database not counted: cannot connect to postgres:\/\/dhash@127\.0\.0\.1:\d+\/dhash/);
  assert.match(check.detail, /password authentication failed/);
  assert.equal(check.detail.includes('wrong-pw-4242'), false);
  assert.equal(check.detail.includes('by pg_database_size'), false, 'no size is claimed for an unmeasured database');
});
