// A 30 MB tmpfs as the backup folder: preflight refuses with
// ENOSPACE, a backup that fails mid-way ends the same, no leftovers.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import { mountTmpfs } from '../../helpers/tmpfs.js';
import {
  createDeployProject,
  createReleaseVariant,
  snapshotTree,
  type DeployProject,
} from '../../helpers/deploy-project.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../../src/lib/clock.js';

let workDir: string;
let releaseA: string;
let releaseB: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dhash-diskfull-'));
  releaseA = (await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() })).dir;
  releaseB = await createReleaseVariant(releaseA, workDir, 'variantb', (dir) =>
    writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n'),
  );
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** A deployed project whose backup folder is the small disk. */
async function createProjectWithSmallBackupDisk(
  t: TestContext,
): Promise<{ project: DeployProject; backupsDir: string }> {
  const backupsDir = await mountTmpfs(t, 30);
  const project = await createDeployProject(t);
  const file = join(project.root, 'environments.json');
  const environments = JSON.parse(await readFile(file, 'utf8'));
  environments.environments.local.backups = { dir: backupsDir, keep: 10 };
  await writeFile(file, JSON.stringify(environments, null, 2));
  await copyFile(join(REPO_ROOT, 'quality-gates-config.json'), join(project.root, 'quality-gates-config.json'));
  const deployed = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(deployed.exitCode, 0, deployed.stdout + deployed.stderr);
  return { project, backupsDir };
}

/** Grows the live database by `megabytes` of incompressible rows (as years of library entries would). */
function growDatabase(project: DeployProject, megabytes: number): void {
  const db = new Database(join(project.root, '.dhash', 'local', 'shared', 'dhash.sqlite'));
  try {
    db.exec('CREATE TABLE IF NOT EXISTS test_filler (b BLOB)');
    const insert = db.prepare('INSERT INTO test_filler (b) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < megabytes; i++) insert.run(randomBytes(1024 * 1024));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** The environment root without the files a running service changes by itself. */
const snapshotEnvironment = async (project: DeployProject) =>
  Object.fromEntries(
    Object.entries(await snapshotTree(join(project.root, '.dhash', 'local'))).filter(
      ([path]) => !/(logs\/|\.sqlite-(shm|wal)$|state\/monitor)/.test(path),
    ),
  );

const MB_PATTERN = /Needed (\d+\.\d) MB, free (\d+\.\d) MB\./;

test(`quick-deploy is refused by preflight with ENOSPACE (exit 3) when the backup folder cannot hold \
the backup; nothing changes`, async (t) => {
  const { project, backupsDir } = await createProjectWithSmallBackupDisk(t);
  const before = await snapshotEnvironment(project);
  const result = await runCliForTest(['quick-deploy', '--env', 'local', '--release', releaseB], { cwd: project.root });
  assert.equal(result.exitCode, 3, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^dhash: Not enough free space in ${backupsDir} to write the pre-deploy backup\\.\\n`, 'm'),
  );
  assert.match(result.stderr, /Nothing was changed and no temp file is left\./);
  const [, needed, free] = MB_PATTERN.exec(result.stderr) ?? [];
  assert.ok(Number(needed) > Number(free) && Number(free) <= 30, result.stderr);
  assert.doesNotMatch(result.stderr, /unexpected error|at .*\.js:\d+/);
  assert.deepEqual(await readdir(backupsDir), []);
  assert.deepEqual(await snapshotEnvironment(project), before);
});

test(`a backup whose database snapshot hits the full disk (SQLITE_FULL) ends with ENOSPACE, exit 3, \
and leaves no temp file`, async (t) => {
  const { project, backupsDir } = await createProjectWithSmallBackupDisk(t);
  growDatabase(project, 36);
  const before = await snapshotEnvironment(project);
  const result = await runCliForTest(['backup', '--env', 'local'], { cwd: project.root });
  assert.equal(result.exitCode, 3, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^dhash: Not enough free space in ${backupsDir} to write the backup\\.\\n`, 'm'),
  );
  assert.match(result.stderr, MB_PATTERN);
  assert.doesNotMatch(result.stderr, /unexpected error|SqliteError|at .*\.js:\d+/);
  assert.deepEqual(await readdir(backupsDir), []);
  assert.deepEqual(await snapshotEnvironment(project), before);
});

test(`a backup whose zip write hits the full disk (ENOSPC) ends with ENOSPACE, exit 3, and leaves no \
temp file`, async (t) => {
  const { project, backupsDir } = await createProjectWithSmallBackupDisk(t);
  // The snapshot (12 MB) fits; the snapshot plus the zip of release and database does not.
  growDatabase(project, 12);
  const result = await runCliForTest(['backup', '--env', 'local'], { cwd: project.root });
  assert.equal(result.exitCode, 3, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^dhash: Not enough free space in ${backupsDir} to write the backup\\.\\n`, 'm'),
  );
  assert.doesNotMatch(result.stderr, /unexpected error|at .*\.js:\d+/);
  assert.deepEqual(await readdir(backupsDir), []);
});
