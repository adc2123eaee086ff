// Rollback strategies end to end with real releases, services, databases, backups and the real CLI (issue 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { useBuiltReleases } from '../../helpers/built-releases.js';
import {
  callServiceApi,
  createDeployProject,
  readCurrentReleaseId,
  type DeployProject,
} from '../../helpers/deploy-project.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import {
  findRollbackBackup,
  performAutoRollback,
  type AutoRollbackDeps,
} from '../../../src/rollout/monitor/auto-rollback.js';
import { createRollbackDeps } from '../../../src/rollout/monitor/rollback-deps.js';
import { getLatestDeploy } from '../../../src/rollout/state/journal.js';
import type { GateResult } from '../../../src/rollout/core/gates.js';
import type { NotificationInput, Notifier } from '../../../src/rollout/notify/index.js';
import { closeDatabase, openDatabase } from '../../../src/service/store/index.js';
import { enqueueReviewItem } from '../../../src/service/review/review-repository.js';

const releases = useBuiltReleases('dhash-strategies-');

const trigger: GateResult = {
  name: 'health',
  value: 3,
  threshold: 2,
  unit: 'consecutive',
  verdict: 'violated',
  action: 'rollback',
} as GateResult;

function createRecordingNotifier(): Notifier & { sent: NotificationInput[] } {
  const sent: NotificationInput[] = [];
  return {
    sent,
    send: async (n: NotificationInput) => (
      sent.push(n),
      { id: 'x', event: n.event, severity: 'critical', deliveries: [], outboxFiles: [] }
    ),
  } as unknown as Notifier & { sent: NotificationInput[] };
}

const labels = async (project: DeployProject) =>
  ((await callServiceApi(project, 'GET', '/v1/library')).items as { label: string }[]).map((i) => i.label).sort();

async function deploy(project: DeployProject, release: string): Promise<void> {
  const result = await runCliForTest(['deploy', '--env', 'local', '--release', release], { cwd: project.root });
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
}

async function backUp(project: DeployProject): Promise<string> {
  const result = await runCliForTest(['backup', '--env', 'local'], { cwd: project.root });
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  const name = /backups\/(dhash_\w+_local\.zip)/.exec(result.stdout)?.[1];
  assert.ok(name, result.stdout);
  return join(project.root, 'backups', name);
}

async function rollBackAsTheMonitor(project: DeployProject, deps?: Partial<AutoRollbackDeps>) {
  const environment = await project.getEnv();
  const clock = createSystemClock();
  const logger = createSilentLogger();
  const notifier = createRecordingNotifier();
  const deploy = (await getLatestDeploy(environment))!;
  const result = await performAutoRollback({
    env: environment.name,
    deployId: deploy.deployId,
    releaseId: deploy.releaseId,
    trigger,
    monitorLogs: [],
    backupFile: await findRollbackBackup(environment.backupsDir, environment.name, {
      backupFile: deploy.backupFile,
      startedAtMs: Date.parse(deploy.startedAt),
    }),
    clock,
    logger,
    notifier,
    detectedAtMs: clock.now(),
    deps: { ...createRollbackDeps({ environment, clock, logger, notifier }), ...deps },
  });
  const incident = result.incidentId
    ? JSON.parse(await readFile(join(project.root, 'incidents', `${result.incidentId}.json`), 'utf8'))
    : undefined;
  const markdown = result.incidentId
    ? await readFile(join(project.root, 'incidents', `${result.incidentId}.md`), 'utf8')
    : '';
  return { result, notifier, incident, markdown };
}

const healthOf = async (project: DeployProject) => (await fetch(`${project.baseUrl}/health`)).status;

test(`switch-back keeps a library entry written after the deploy, and the database file is never \
replaced`, async (t) => {
  const project = await createDeployProject(t);
  await deploy(project, releases.releaseA);
  await callServiceApi(project, 'POST', '/v1/library', { label: 'before', hash: '0123456789abcdef' });
  await backUp(project);
  await deploy(project, releases.releaseB);
  const status = await runCliForTest(['status', '--env', 'local'], { cwd: project.root });
  assert.match(
    status.stdout,
    /^ {2}rollback strategy: switch-back \(the deploy applied no migration: the live database is kept\) for local-/m,
  );
  await callServiceApi(project, 'POST', '/v1/library', { label: 'after-deploy', hash: '1123456789abcdef' });
  const dbFile = join(project.root, '.dhash', 'local', 'shared', 'dhash.sqlite');
  const inodeBefore = (await stat(dbFile)).ino;

  const { result, incident, notifier } = await rollBackAsTheMonitor(project);
  assert.equal(result.status, 'succeeded', result.reason);
  assert.equal(result.strategy, 'switch-back');
  assert.equal(await readCurrentReleaseId(project), basename(releases.releaseA));
  assert.equal(await healthOf(project), 200);
  assert.deepEqual(await labels(project), ['after-deploy', 'before']);
  assert.equal((await stat(dbFile)).ino, inodeBefore, 'the live database file was not replaced');
  assert.equal(incident.rollback.strategy, 'switch-back');
  assert.equal(
    incident.timeline.some((e: { step: string }) => e.step === 'rollback:snapshot'),
    false,
    'no pre-rollback snapshot for a switch-back',
  );
  assert.ok(
    incident.timeline.some(
      (e: { step: string; status: string }) => e.step === 'rollback:verify-release' && e.status === 'succeeded',
    ),
  );
  assert.deepEqual(
    notifier.sent.map((n) => n.event),
    ['rollback-start', 'rollback-success'],
  );
});

test(`restore carries forward an entry added, an entry deleted and a review resolved since the backup; \
the incident lists them`, async (t) => {
  const project = await createDeployProject(t);
  await deploy(project, releases.releaseA);
  const old = await callServiceApi(project, 'POST', '/v1/library', { label: 'old', hash: '0123456789abcdef' });
  const environment = await project.getEnv();
  const db = openDatabase(environment.databaseFile);
  const review = enqueueReviewItem(db, {
    queryHash: '2123456789abcdef',
    queryLabel: 'query',
    candidateId: old.id,
    distance: 9,
  });
  closeDatabase(db);
  await backUp(project);
  await deploy(project, releases.releaseB);
  await callServiceApi(project, 'POST', '/v1/library', { label: 'new', hash: '3123456789abcdef' });
  await callServiceApi(project, 'DELETE', `/v1/library/${old.id}`);
  await callServiceApi(project, 'POST', `/v1/review/${review.id}/resolve`, { resolution: 'different' });

  // As if the deploy had applied a migration without a down: only a restore can undo it.
  const { result, incident, markdown } = await rollBackAsTheMonitor(project, {
    getDeployFacts: async () => ({
      previousReleaseId: basename(releases.releaseA),
      appliedMigrations: [{ version: 9, name: 'no_down', hasDown: false }],
    }),
  });
  assert.equal(result.status, 'succeeded', result.reason);
  assert.equal(result.strategy, 'restore');
  assert.equal(await readCurrentReleaseId(project), basename(releases.releaseA));
  assert.equal(await healthOf(project), 200);
  assert.deepEqual(await labels(project), ['new']);
  const items = (await callServiceApi(project, 'GET', '/v1/review')).items as { id: number; status: string }[];
  assert.deepEqual(
    items.map((i) => [i.id, i.status]),
    [[review.id, 'different']],
  );
  // The smoke tests' own round trip (add, delete) is carried forward too; it cancels out.
  const summaries = (incident.rollback.carriedForward as { summary: string }[])
    .map((c) => c.summary)
    .filter((s) => !s.includes('dhash-smoke'));
  assert.deepEqual(
    summaries.map((s) => s.replace(/ \d+ → \d+/, ' N → N')),
    [
      'library_entry add N → N (new)',
      `library_entry delete ${old.id} (old)`,
      `review_item resolve ${review.id} as different`,
    ],
  );
  assert.deepEqual(incident.rollback.notCarriedForward, []);
  assert.match(markdown, /^Carried forward \(\d+\):$/m);
  assert.match(markdown, /^- #\d+ \S+ library_entry add \d+ → \d+ \(new\)$/m);
  assert.match(markdown, /^- \*\*Strategy:\*\* restore \(migration 9 \(no_down\) has no down\)$/m);
  assert.ok(incident.rollback.snapshotFile, 'a pre-rollback snapshot was taken');
});

test(`manual rollback --carry-forward restores the backup then re-applies what users wrote; without it \
the data is the backup's`, async (t) => {
  const project = await createDeployProject(t);
  await deploy(project, releases.releaseA);
  await callServiceApi(project, 'POST', '/v1/library', { label: 'one', hash: '0123456789abcdef' });
  const backup = await backUp(project);
  await deploy(project, releases.releaseB);
  await callServiceApi(project, 'POST', '/v1/library', { label: 'two', hash: '1123456789abcdef' });
  const dry = await runCliForTest(['rollback', '--backup', backup, '--env', 'local', '--carry-forward', '--dry-run'], {
    cwd: project.root,
  });
  assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /Plan \(strategy restore with carry-forward\)/);
  const rolled = await runCliForTest(['rollback', '--backup', backup, '--env', 'local', '--force', '--carry-forward'], {
    cwd: project.root,
  });
  assert.equal(rolled.exitCode, 0, rolled.stdout + rolled.stderr);
  assert.match(rolled.stdout, /plus \d+ change\(s\) carried forward; the state before the rollback is in /);
  assert.match(rolled.stdout, /^ {2}carried forward #\d+ library_entry add \d+ → \d+ \(two\)$/m);
  assert.deepEqual(await labels(project), ['one', 'two']);
});

test(`first deploy with a violated gate: the only release keeps serving, critical incident, exact \
rollback-failure reason, blocked`, async (t) => {
  const project = await createDeployProject(t);
  await deploy(project, releases.releaseA);
  const { result, notifier, incident } = await rollBackAsTheMonitor(project);
  assert.equal(result.status, 'blocked');
  assert.equal(result.reason, 'first deploy: nothing to roll back to');
  assert.equal(await healthOf(project), 200, 'the release is still serving');
  assert.equal(await readCurrentReleaseId(project), basename(releases.releaseA));
  const failures = notifier.sent.filter((n) => n.event === 'rollback-failure');
  assert.equal(failures.length, 1);
  assert.equal(failures[0].fields?.reason, 'first deploy: nothing to roll back to');
  assert.equal(incident.severity, 'critical');
  assert.equal(incident.rollback.strategy, 'none');
});
