// End to end with real releases, real detached services, real
// backups: deploy, switch-back, rollback, locks, dry runs, scripts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import { createDeployProject, createReleaseVariant, snapshotTree } from '../../helpers/deploy-project.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { readJournal } from '../../../src/rollout/state/journal.js';
import { extractBackup } from '../../../src/rollout/backup/index.js';

let workDir: string;
let releaseA: string;
let releaseB: string;
let releaseBroken: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dhash-releases-'));
  const built = await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() });
  releaseA = built.dir;
  releaseB = await createReleaseVariant(releaseA, workDir, 'variantb', (dir) =>
    writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n'),
  );
  // Starts, then exits 1 at once: its health checks can never pass.
  releaseBroken = await createReleaseVariant(releaseA, workDir, 'broken', (dir) =>
    writeFile(join(dir, 'dist', 'cli', 'main.js'), 'process.exit(1);\n'),
  );
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function runScript(
  cwd: string,
  script: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(cwd, 'scripts', script), args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function addLibraryEntry(baseUrl: string, label: string, hash: string): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/library`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ label, hash }),
  });
  assert.equal(response.status, 201, await response.text());
}

async function listLabels(baseUrl: string): Promise<string[]> {
  const body = (await (await fetch(`${baseUrl}/v1/library`)).json()) as { items: { label: string }[] };
  return body.items.map((i) => i.label).sort();
}

/**
 * The running service's own request log and SQLite's shared-memory
 * read marks change under any reader; they are not the deploy's doing.
 */
const withoutLiveFiles = (tree: Record<string, string>) =>
  Object.fromEntries(Object.entries(tree).filter(([path]) => !/(logs\/service\.log|\.sqlite-shm)$/.test(path)));

const currentOf = async (root: string) => basename(await readlink(join(root, '.dhash', 'local', 'current')));

test(`deploy, back up, deploy again, roll back with the real scripts: the first release serves the \
backup data, the snapshot keeps the rest`, async (t) => {
  const project = await createDeployProject(t);
  const deployed = await runScript(project.root, 'deploy_dhash.sh', ['--env', 'local', '--release', releaseA]);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
  assert.equal(await currentOf(project.root), basename(releaseA));
  await addLibraryEntry(project.baseUrl, 'one', '0123456789abcdef');

  const backedUp = await runScript(project.root, 'backup_dhash.sh', ['--env', 'local']);
  assert.equal(backedUp.code, 0, backedUp.stdout + backedUp.stderr);
  const backupName = /backups\/(dhash_\w+_local\.zip)/.exec(backedUp.stdout)?.[1];
  assert.ok(backupName, backedUp.stdout);
  const backupFile = join(project.root, 'backups', backupName);

  await addLibraryEntry(project.baseUrl, 'two', '1123456789abcdef');
  const second = await runScript(project.root, 'deploy_dhash.sh', ['--env', 'local', '--release', releaseB]);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(await currentOf(project.root), basename(releaseB));
  await addLibraryEntry(project.baseUrl, 'three', '2123456789abcdef');
  assert.deepEqual(await listLabels(project.baseUrl), ['one', 'three', 'two']);

  const rolledBack = await runScript(project.root, 'rollback_dhash.sh', [
    '--backup',
    `backups/${backupName}`,
    '--env',
    'local',
    '--force',
  ]);
  assert.equal(rolledBack.code, 0, rolledBack.stdout + rolledBack.stderr);
  assert.equal(await currentOf(project.root), basename(releaseA));
  assert.deepEqual(await listLabels(project.baseUrl), ['one']);

  const snapshotName = /the state before the rollback is in (\S+\.zip)/.exec(rolledBack.stdout)?.[1];
  assert.ok(snapshotName && snapshotName !== backupFile, rolledBack.stdout);
  const extracted = await extractBackup(snapshotName, join(project.root, 'snapshot-check'), {
    expectedEnv: 'local',
    projectRoot: project.root,
  });
  const db = new Database(extracted.databaseFile!, { readonly: true });
  const labels = (db.prepare('SELECT label FROM library_entries ORDER BY label').all() as { label: string }[]).map(
    (r) => r.label,
  );
  db.close();
  assert.deepEqual(labels, ['one', 'three', 'two']);
  assert.equal(extracted.manifest.releaseId, basename(releaseB));

  const kinds = (await readJournal(await project.getEnv()))
    .filter((e) => e.step === 'rollback:finish')
    .map((e) => e.status);
  assert.deepEqual(kinds, ['succeeded']);

  // One flipped byte in the zip: refused with exit 3, nothing touched.
  const pidBefore = await readFile(join(project.root, '.dhash', 'local', 'state', 'service.pid'), 'utf8');
  const handle = await open(backupFile, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, 200);
  byte[0] ^= 0xff;
  await handle.write(byte, 0, 1, 200);
  await handle.close();
  const envBefore = await snapshotTree(join(project.root, '.dhash', 'local', 'releases'));
  const refused = await runCliForTest(['rollback', '--backup', backupFile, '--env', 'local', '--force'], {
    cwd: project.root,
  });
  assert.equal(refused.exitCode, 3, refused.stderr);
  assert.match(refused.stderr, /checksum/i);
  assert.equal(await readFile(join(project.root, '.dhash', 'local', 'state', 'service.pid'), 'utf8'), pidBefore);
  assert.deepEqual(await snapshotTree(join(project.root, '.dhash', 'local', 'releases')), envBefore);
  assert.deepEqual(await listLabels(project.baseUrl), ['one']);
});

test(`a release whose service fails its health checks is switched back automatically: exit 1, the \
previous release serving`, async (t) => {
  const project = await createDeployProject(t);
  const first = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  const broken = await runCliForTest(['deploy', '--env', 'local', '--release', releaseBroken], { cwd: project.root });
  assert.equal(broken.exitCode, 1, broken.stdout + broken.stderr);
  assert.match(broken.stdout, /switched back to .*, which is serving and healthy/);
  assert.equal(await currentOf(project.root), basename(releaseA));
  const health = await fetch(`${project.baseUrl}/health`);
  assert.equal(health.status, 200);
  const steps = (await readJournal(await project.getEnv()))
    .filter((e) => e.kind === 'deploy')
    .map((e) => `${e.step}:${e.status}`);
  assert.ok(steps.includes('deploy:healthcheck:failed'), steps.join(' '));
  assert.ok(steps.includes('deploy:switch-back:succeeded'), steps.join(' '));
  assert.equal(steps.at(-1), 'deploy:finish:failed');
});

test('two concurrent deploys: exactly one gets exit 3 naming the lock holder', async (t) => {
  const project = await createDeployProject(t);
  const results = await Promise.all([
    runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root }),
    runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root }),
  ]);
  const codes = results.map((r) => r.exitCode).sort();
  assert.deepEqual(codes, [0, 3], results.map((r) => r.stdout + r.stderr).join('\n---\n'));
  const loser = results.find((r) => r.exitCode === 3)!;
  assert.match(loser.stderr, /in progress \(deploy of .* by pid \d+ on .*\)|preflight:lock: held: deploy of/);
  assert.match(loser.stderr, /deploy\.lock/);
});

test('deploy --dry-run changes nothing: the environment tree is byte-identical before and after', async (t) => {
  const project = await createDeployProject(t);
  const fresh = await runCliForTest(['deploy', '--env', 'local', '--dry-run'], { cwd: project.root });
  assert.equal(fresh.exitCode, 0, fresh.stdout + fresh.stderr);
  assert.match(fresh.stdout, /first deploy: nothing deployed yet/);
  assert.deepEqual(await snapshotTree(join(project.root, '.dhash')), {});

  const deployed = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(deployed.exitCode, 0, deployed.stdout + deployed.stderr);
  const before = withoutLiveFiles(await snapshotTree(project.root));
  const dry = await runCliForTest(['deploy', '--env', 'local', '--release', releaseB, '--dry-run'], {
    cwd: project.root,
  });
  assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(`switch current from releases/${basename(releaseA)} to releases/${basename(releaseB)}`),
  );
  assert.deepEqual(withoutLiveFiles(await snapshotTree(project.root)), before);
});

test(`a first deploy that fails its health checks is never stopped by the guard, reports the probed \
state and exits 4`, async (t) => {
  const project = await createDeployProject(t);
  const result = await runCliForTest(['deploy', '--env', 'local', '--release', releaseBroken], { cwd: project.root });
  assert.equal(result.exitCode, 4, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    new RegExp(
      'first deploy: there is no previous release to switch back to, so the new release was left as it is ' +
        '\\(the guard never stops the only release\\)',
    ),
  );
  // The state reported is the probed one: the broken release exited by itself, so health does not answer OK.
  assert.match(
    result.stdout,
    new RegExp(`current → releases/${basename(releaseBroken)}; \\S+/health did not answer health OK`),
  );
  assert.equal(
    await readlink(join(project.root, '.dhash', 'local', 'current')).then((t) => basename(t)),
    basename(releaseBroken),
  );
  const steps = (await readJournal(await project.getEnv())).map((e) => `${e.step}:${e.status}`);
  assert.deepEqual(steps.slice(-2), ['deploy:switch-back:failed', 'deploy:finish:failed']);
});
