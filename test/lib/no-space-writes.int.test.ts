// Every write that still meets a full disk (journal, outbox, release
// build, deploy staging) ends as ENOSPACE, leaving no temp file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCliForTest } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { createDeployProject, createReleaseVariant } from '../helpers/deploy-project.js';
import { fillFilesystem, mountTmpfs } from '../helpers/tmpfs.js';
import { buildRelease } from '../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../src/lib/clock.js';
import { isDhashError, type DhashError } from '../../src/lib/errors.js';
import { createRedactor } from '../../src/lib/redact.js';
import { EMBEDDED_LOCAL, resolveEnvironmentConfig } from '../../src/rollout/config/environments.js';
import { appendJournal, getJournalFile, readJournal } from '../../src/rollout/state/journal.js';
import { writeOutboxEntry, type OutboxEntry } from '../../src/rollout/notify/outbox/outbox.js';
import { deployRelease } from '../../src/rollout/deploy/deploy-release.js';
import { createJsonLogger } from '../../src/lib/logger.js';
import { isNoSpaceError } from '../../src/lib/no-space.js';

let workDir: string;
let releaseA: string;
let releaseB: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dhash-nospace-'));
  releaseA = (await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() })).dir;
  releaseB = await createReleaseVariant(releaseA, workDir, 'variantb', (dir) =>
    writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n'),
  );
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The rejection of `promise`, which must be ENOSPACE. */
async function expectNoSpace(promise: Promise<unknown>): Promise<DhashError> {
  const error = await promise.then(
    () => assert.fail('expected ENOSPACE'),
    (e: unknown) => e,
  );
  assert.ok(isDhashError(error, 'ENOSPACE'), String((error as Error).stack ?? error));
  return error;
}

test('recognises a full disk from Node (ENOSPC), SQLite (SQLITE_FULL) and inside a cause, and nothing else', () => {
  assert.equal(isNoSpaceError(Object.assign(new Error('write'), { code: 'ENOSPC' })), true);
  assert.equal(isNoSpaceError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })), true);
  assert.equal(
    isNoSpaceError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ENOSPC' }) })),
    true,
  );
  assert.equal(isNoSpaceError(Object.assign(new Error('nope'), { code: 'EACCES' })), false);
  assert.equal(isNoSpaceError('ENOSPC'), false);
});

test(`a journal append on a full disk is ENOSPACE naming the state folder, exit 3, and leaves no torn \
line`, async (t) => {
  const disk = await mountTmpfs(t, 1);
  const environment = resolveEnvironmentConfig(disk, 'local', EMBEDDED_LOCAL, {});
  const entry = {
    time: '2026-11-28T01:00:00.000Z',
    deployId: 'local-20261128T010000000Z',
    kind: 'deploy' as const,
    step: 'deploy:start',
    status: 'started' as const,
    releaseId: 'R1',
  };
  await appendJournal(environment, entry);
  const before = await readFile(getJournalFile(environment), 'utf8');
  await fillFilesystem(disk);
  const error = await expectNoSpace(
    appendJournal(environment, { ...entry, step: 'deploy:finish', detail: 'x'.repeat(8192) }),
  );
  assert.equal(
    error.message,
    `Not enough free space in ${environment.stateDir} to append to the deploy journal ${getJournalFile(environment)}.`,
  );
  assert.equal(error.exitCode, 3);
  assert.match(error.details, /^Needed 9 KB, free 0 KB\. Nothing was changed and no temp file is left\./);
  assert.equal(await readFile(getJournalFile(environment), 'utf8'), before);
  assert.deepEqual(await readJournal(environment), [entry]);
});

test('an outbox write on a full disk is ENOSPACE naming notifications_out/, with no temp file left', async (t) => {
  const disk = await mountTmpfs(t, 1);
  const dir = join(disk, 'notifications_out');
  await mkdir(dir);
  await fillFilesystem(disk);
  const entry = {
    formatVersion: 1,
    id: '0123456789abcdef',
    createdAt: '2026-11-28T01:00:00.000Z',
    event: 'failure',
    env: 'local',
    channel: 'none',
    payload: 'y'.repeat(65536),
  } as unknown as OutboxEntry;
  const error = await expectNoSpace(writeOutboxEntry(dir, entry, createRedactor({})));
  assert.equal(error.message, `Not enough free space in ${dir} to keep the undelivered failure notification.`);
  assert.equal(error.exitCode, 3);
  assert.deepEqual(await readdir(dir), []);
});

test('building a release into a full folder is ENOSPACE, with no half-copied release left', async (t) => {
  const disk = await mountTmpfs(t, 8);
  const error = await expectNoSpace(buildRelease({ projectRoot: REPO_ROOT, outDir: disk, clock: createSystemClock() }));
  assert.match(error.message, new RegExp(`^Not enough free space in ${disk} to build release \\S+\\.$`));
  assert.equal(error.exitCode, 3);
  assert.deepEqual(await readdir(disk), []);
});

test(`a deploy whose staging meets a full disk after preflight passed is ENOSPACE (exit 3): nothing \
changed, the previous release serves`, async (t) => {
  // The kill hook first: hooks run in order, and the pid file lives on the disk that is unmounted after it.
  let root = '';
  t.after(async () => {
    const pidFile = join(root, 'state', 'service.pid');
    if (!root || !existsSync(pidFile)) return;
    const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {}
    }
  });
  root = await mountTmpfs(t, 100);
  const project = await createDeployProject(t);
  const file = join(project.root, 'environments.json');
  const environments = JSON.parse(await readFile(file, 'utf8'));
  environments.environments.local.root = root;
  await writeFile(file, JSON.stringify(environments, null, 2));
  const first = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);

  const environment = await project.getEnv();
  const clock = createSystemClock();
  const logger = createJsonLogger({ clock, redact: createRedactor({}), streams: [], component: 'test' });
  // What quick-deploy passes on from its preflight:validate step, taken before the disk filled.
  const preflight = { checks: [], ok: true, pendingMigrations: 0 };
  const error = await expectNoSpace(deployRelease({ environment, release: releaseB, clock, logger, preflight }));
  assert.equal(
    error.message,
    `Not enough free space in ${environment.releasesDir} to stage release ${basename(releaseB)}.`,
  );
  assert.equal(error.exitCode, 3);
  assert.deepEqual(await readdir(environment.releasesDir), [basename(releaseA)]);
  assert.equal(basename(await readlink(environment.currentLink)), basename(releaseA));
  assert.equal((await fetch(`${project.baseUrl}/health`)).status, 200);
  const steps = (await readJournal(environment))
    .filter((e) => e.releaseId === basename(releaseB) || e.step === 'deploy:stage')
    .map((e) => `${e.step} ${e.status}`);
  assert.deepEqual(steps.slice(-3), ['deploy:stage started', 'deploy:stage failed', 'deploy:finish failed']);
});
