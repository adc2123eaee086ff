// `dhash host <sub>` on this machine against a temp root, run from the staged release's own CLI as a fleet host runs
// it: real releases, a real detached service, real health probes, the real lock and journal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../helpers/processes.js';
import type {
  HostActivationReport,
  HostStatusReport,
  HostVerifyReport,
} from '../../../src/rollout/host/host-report.js';
import type { JournalEntry } from '../../../src/rollout/state/journal.js';
import {
  buildHostReleases,
  createHostRoot,
  getResult,
  type HostReleases,
  type HostRoot,
  type RunOptions,
} from './host-fixtures.js';

let releases: HostReleases;
before(async () => {
  releases = await buildHostReleases();
});
after(async () => {
  await releases?.cleanup();
});

const isHealthy = async (url: string) => (await fetch(url).catch(() => undefined))?.status === 200;

async function activate(host: HostRoot, releaseId: string, extra: string[] = [], options?: RunOptions) {
  const args = ['activate', '--release', releaseId, ...host.serviceArgs, ...extra];
  return host.runHost<HostActivationReport>(releaseId, args, options);
}

async function readJournal(root: string): Promise<JournalEntry[]> {
  const text = await readFile(join(root, 'state', 'deploy-journal.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalEntry);
}

test('activate switches current to the staged release, verified healthy; again, it changes nothing', async (t) => {
  const host = await createHostRoot(t);
  const id = host.stage(releases.good);
  const run = await activate(host, id);
  assert.equal(run.exitCode, 0, run.stderr);
  const report = getResult(run);
  assert.equal(report.isActivated, true);
  assert.equal(report.isFirstActivation, true);
  assert.equal(report.serving.releaseId, id);
  assert.equal(report.serving.isHealthy, true);
  assert.equal(await host.currentReleaseId(), id);
  assert.equal(await isHealthy(host.healthUrl), true);
  const steps = report.timeline.filter((e) => e.status === 'succeeded').map((e) => e.step);
  assert.deepEqual(steps, ['deploy:symlink', 'deploy:restart', 'deploy:healthcheck', 'deploy:prune', 'deploy:finish']);
  const journal = await readJournal(host.root);
  assert.deepEqual(
    journal.filter((e) => e.step === 'deploy:finish').map((e) => [e.deployId, e.status]),
    [[report.deployId, 'succeeded']],
  );
  const history = JSON.parse(await readFile(join(host.root, 'state', 'release-history.json'), 'utf8'));
  assert.deepEqual(history.releaseIds, [id]);
  assert.deepEqual(history.service, { driver: 'process', bind: '127.0.0.1', port: host.port });

  const pid = host.servicePid();
  const again = await activate(host, id);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.equal(getResult(again).isAlreadyActive, true);
  assert.equal(host.servicePid(), pid, 'the running service was left alone');
});

test('a release failing its health checks is switched back: the previous one serves, verified, exit 1', async (t) => {
  const host = await createHostRoot(t);
  const good = host.stage(releases.good);
  const bad = host.stage(releases.unhealthy);
  assert.equal((await activate(host, good)).exitCode, 0);
  const run = await activate(host, bad);
  assert.equal(run.exitCode, 1, run.stderr);
  const report = getResult(run);
  assert.equal(report.isActivated, false);
  assert.match(report.failureReason ?? '', /^health check failed: the service process exited/);
  assert.deepEqual(report.switchBack, {
    releaseId: good,
    ok: true,
    detail: `switched back to ${good}, which is serving and healthy`,
  });
  assert.deepEqual([report.serving.releaseId, report.serving.isHealthy], [good, true]);
  assert.equal(await host.currentReleaseId(), good);
  assert.equal(await isHealthy(host.healthUrl), true);
  const finish = (await readJournal(host.root)).filter((e) => e.step === 'deploy:finish').pop();
  assert.equal(finish?.status, 'failed');
  const history = JSON.parse(await readFile(join(host.root, 'state', 'release-history.json'), 'utf8'));
  assert.deepEqual(history.releaseIds, [good], 'a release switched back from is not recorded');
});

test('a first activation that fails its health checks stops nothing and reports it: exit 4', async (t) => {
  const host = await createHostRoot(t);
  const bad = host.stage(releases.unhealthy);
  const run = await activate(host, bad);
  assert.equal(run.exitCode, 4, run.stderr);
  const report = getResult(run);
  assert.equal(report.isFirstActivation, true);
  assert.equal(report.isActivated, false);
  assert.equal(report.switchBack, undefined);
  assert.equal(await host.currentReleaseId(), bad, 'the only release is left where it is');
  const switchBack = report.timeline.find((e) => e.step === 'deploy:switch-back');
  assert.match(switchBack?.detail ?? '', /^first activation: there is no previous release to switch back to/);
});

test('rollback returns to the previous release recorded on the host, verified; then none is left', async (t) => {
  const host = await createHostRoot(t);
  const first = host.stage(releases.good);
  const second = host.stage(releases.other);
  assert.equal((await activate(host, first)).exitCode, 0);
  assert.equal((await activate(host, second)).exitCode, 0);
  // Run from the release rolled back to: the one being left may be the broken one.
  const run = await host.runHost<HostActivationReport>(first, ['rollback', ...host.serviceArgs]);
  assert.equal(run.exitCode, 0, run.stderr);
  const report = getResult(run);
  assert.deepEqual([report.action, report.releaseId, report.previousReleaseId], ['rollback', first, second]);
  assert.equal(report.isActivated, true);
  assert.equal(await host.currentReleaseId(), first);
  assert.equal(await isHealthy(host.healthUrl), true);
  assert.ok(report.timeline.some((e) => e.step === 'rollback:finish' && e.status === 'succeeded'));

  // The settings of the last activation are the defaults: a human on the host types only --root.
  const none = await host.runHost(first, ['rollback']);
  assert.equal(none.exitCode, 4);
  assert.ok('error' in none.answer);
  assert.equal(none.answer.error.code, 'ENOPREVIOUSRELEASE');
  assert.equal(await host.currentReleaseId(), first);

  const forward = await host.runHost<HostActivationReport>(second, ['rollback', '--to', second]);
  assert.equal(forward.exitCode, 0, forward.stderr);
  assert.equal(await host.currentReleaseId(), second);
});

test('status reports current, previous, releases, service, lock, journal tail and health', async (t) => {
  const host = await createHostRoot(t);
  const empty = await host.runHost<HostStatusReport>(host.stage(releases.good), ['status']);
  assert.equal(empty.exitCode, 0, empty.stderr);
  assert.deepEqual(getResult(empty).journal, []);
  assert.equal(getResult(empty).currentReleaseId, undefined);
  assert.equal(getResult(empty).health, undefined, 'no address known yet: nothing to probe');

  const first = releases.good.split('/').pop()!;
  const second = host.stage(releases.other);
  assert.equal((await activate(host, first)).exitCode, 0);
  assert.equal((await activate(host, second)).exitCode, 0);
  const run = await host.runHost<HostStatusReport>(second, ['status', '--lines', '3']);
  assert.equal(run.exitCode, 0, run.stderr);
  const status = getResult(run);
  assert.equal(status.currentReleaseId, second);
  assert.equal(status.previousReleaseId, first);
  assert.deepEqual(status.releaseIds, [first, second].sort());
  assert.equal(status.service.isRunning, true);
  assert.equal(status.service.pid, host.servicePid());
  assert.equal(status.service.releaseId, second);
  assert.equal(status.lock, undefined);
  assert.equal(status.journal.length, 3);
  assert.equal(status.journal[2].step, 'deploy:finish');
  assert.deepEqual(status.health, { url: host.healthUrl, ok: true, status: 200 });
  assert.deepEqual(status.serviceEnv, { isPresent: false });
  const text = await host.runHost(second, ['status', '--text']).catch((error: Error) => error.message);
  assert.match(String(text), /printed no JSON answer/, '--text prints human text only');
});

test('a held lock refuses activate with ELOCKED, exit 3, and nothing changes', async (t) => {
  const host = await createHostRoot(t);
  const first = host.stage(releases.good);
  const second = host.stage(releases.other);
  assert.equal((await activate(host, first)).exitCode, 0);
  const pid = host.servicePid();
  const holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), purpose: 'deploy of x' };
  await writeFile(join(host.root, 'state', 'deploy.lock'), JSON.stringify(holder));
  const run = await activate(host, second);
  assert.equal(run.exitCode, 3);
  assert.ok('error' in run.answer);
  assert.equal(run.answer.error.code, 'ELOCKED');
  assert.match(run.answer.error.message, new RegExp(`deploy of x by pid ${process.pid}`));
  assert.equal(await host.currentReleaseId(), first);
  assert.equal(host.servicePid(), pid);
  const status = getResult(await host.runHost<HostStatusReport>(first, ['status']));
  assert.deepEqual(status.lock, { ...holder, isStale: false });
});

test('service.env must be 0600: 0644 is refused with ESERVICEENVMODE exit 3; 0600 reaches the service', async (t) => {
  const host = await createHostRoot(t);
  const id = host.stage(releases.good);
  const envFile = join(host.root, 'shared', 'service.env');
  const token = 'host-test-token-1234567890';
  await writeFile(envFile, `DHASH_API_TOKENS=ops:admin:${token}\n`, { mode: 0o644 });
  await chmod(envFile, 0o644);
  const refused = await activate(host, id);
  assert.equal(refused.exitCode, 3);
  assert.ok('error' in refused.answer);
  assert.equal(refused.answer.error.code, 'ESERVICEENVMODE');
  assert.equal(refused.answer.error.message, `The service environment file ${envFile} has mode 0644; it must be 0600.`);
  assert.equal(await host.currentReleaseId(), undefined, 'nothing changed');

  await chmod(envFile, 0o600);
  const run = await activate(host, id);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the token is never printed');
  const base = `http://127.0.0.1:${host.port}`;
  const anonymous = await fetch(`${base}/v1/library`, { method: 'POST', body: '{}' });
  assert.equal(anonymous.status, 401, 'the service loaded DHASH_API_TOKENS from service.env');
  const withToken = await fetch(`${base}/v1/library`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(withToken.status, 200);
});

test('verify-release: a changed file is ECHECKSUMMISMATCH (3), an unknown release ERELEASENOTSTAGED (2)', async (t) => {
  const host = await createHostRoot(t);
  const id = host.stage(releases.good);
  const ok = await host.runHost<HostVerifyReport>(id, ['verify-release', '--release', id]);
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(getResult(ok).releaseId, id);

  const missing = await host.runHost(id, ['verify-release', '--release', '20990101T000000000Z-9.9.9-nothere']);
  assert.equal(missing.exitCode, 2);
  assert.ok('error' in missing.answer);
  assert.equal(missing.answer.error.code, 'ERELEASENOTSTAGED');

  // Replaced, not written in place: the staged files are hard links to the built release.
  const file = join(host.root, 'releases', id, 'package.json');
  const text = await readFile(file, 'utf8');
  await rm(file);
  await writeFile(file, text.replace('"dhash"', '"dhash-changed"'));
  const changed = await host.runHost(id, ['verify-release', '--release', id]);
  assert.equal(changed.exitCode, 3);
  assert.ok('error' in changed.answer);
  assert.equal(changed.answer.error.code, 'ECHECKSUMMISMATCH');
});

test('SIGTERM during the switch-back does not stop it: the previous release ends serving, verified', async (t) => {
  const host = await createHostRoot(t);
  const good = host.stage(releases.good);
  const bad = host.stage(releases.unhealthy);
  assert.equal((await activate(host, good)).exitCode, 0);
  let signalled: Promise<void> | undefined;
  const run = await activate(host, bad, [], {
    onSpawn: (child) => {
      signalled = waitFor(
        'the switch-back to start',
        async () => (await readJournal(host.root)).some((e) => e.step === 'deploy:switch-back'),
        20_000,
        10,
      ).then(() => void child.kill('SIGTERM'));
    },
  });
  await signalled;
  assert.equal(run.exitCode, 1, run.stderr);
  const report = getResult(run);
  assert.equal(report.switchBack?.ok, true, JSON.stringify(report.timeline));
  assert.equal(await host.currentReleaseId(), good);
  assert.equal(await isHealthy(host.healthUrl), true);
});
