// Issue 9, real processes and the real CLI: a deploy supersedes the running monitor;
// a monitor never acts on a release that is not serving; a killed monitor is reported
// as not beating; quick-deploy fails monitor:start when the monitor cannot start.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { copyFile, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createSystemClock } from '../../src/lib/clock.js';
import { buildRelease, type BuiltRelease } from '../../src/rollout/release/build-release.js';
import { readJournal } from '../../src/rollout/state/journal.js';
import { readMonitorLockHolder } from '../../src/rollout/monitor/monitor-lock.js';
import { readMonitorState } from '../../src/rollout/monitor/monitor-state.js';
import { replaceSymlinkAtomic } from '../../src/lib/atomic-file.js';
import { isPidAlive } from '../../src/rollout/state/lock.js';
import {
  breakJpegHashing,
  createDeployProject,
  createReleaseVariant,
  type DeployProject,
} from '../helpers/deploy-project.js';
import { runCliForTest } from '../helpers/cli.js';
import { createFixtureImage } from '../helpers/images.js';
import { REPO_ROOT, waitFor } from '../helpers/processes.js';

const clock = createSystemClock();
// A long window polled every second: the monitors are still inside it whenever the test acts.
const GATES = { monitor: { window: '10m', poll: [{ every: '1s' }] } };

let built: Promise<BuiltRelease> | undefined;
const buildDir = mkdtempSync(join(tmpdir(), 'dhash-build-'));
after(() => rmSync(buildDir, { recursive: true, force: true }));
/** One build of the checkout for the whole file (a release directory; variants are copies). */
function getBuiltRelease(): Promise<BuiltRelease> {
  built ??= buildRelease({ projectRoot: REPO_ROOT, outDir: buildDir, clock });
  return built;
}

async function createProject(
  t: { after: (fn: () => Promise<void>) => void },
  gatesOverride: Record<string, unknown> = GATES,
): Promise<{ project: DeployProject; processEnv: Record<string, string | undefined> }> {
  assert.ok(existsSync(join(REPO_ROOT, 'dist/cli/main.js')), 'run `npm run build` before the end-to-end test');
  const project = await createDeployProject(t, { healthTimeoutMs: 60_000 });
  const gates = JSON.parse(await readFile(join(REPO_ROOT, 'quality-gates-config.json'), 'utf8')) as {
    environments: Record<string, unknown>;
  };
  gates.environments.local = gatesOverride;
  await writeFile(join(project.root, 'quality-gates-config.json'), JSON.stringify(gates, null, 2));
  await copyFile(join(REPO_ROOT, 'quick-deploy.sh'), join(project.root, 'quick-deploy.sh'));
  // Monitors started by quick-deploy are detached: stop whichever one holds the lock when the test ends.
  t.after(async () => {
    const holder = await readMonitorLockHolder(await project.getEnv());
    if (holder && holder.pid !== process.pid && isPidAlive(holder.pid)) process.kill(holder.pid, 'SIGKILL');
  });
  return { project, processEnv: { PATH: process.env.PATH, HOME: process.env.HOME, DHASH_PORT: '' } };
}

function runProcess(
  command: string,
  args: string[],
  cwd: string,
  processEnv: Record<string, string | undefined>,
): { child: ChildProcess; done: Promise<{ code: number; output: string }> } {
  const child = spawn(command, args, { cwd, env: processEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const done = new Promise<{ code: number; output: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), output })),
  );
  return { child, done };
}

const quickDeploy = (root: string, release: string, processEnv: Record<string, string | undefined>) =>
  runProcess('bash', [join(root, 'quick-deploy.sh'), '--env', 'local', '--release', release], root, processEnv).done;
const getDeployId = (output: string) => /deploy:\s+(local-\d{8}T\d{9}Z)/.exec(output)?.[1];

test(
  'a deploy during a window supersedes the old monitor; a killed monitor is reported as not beating; a ' +
    'monitor ends superseded when current is not its release',
  { timeout: 600_000 },
  async (t) => {
    const { project, processEnv } = await createProject(t);
    const { root } = project;
    const environment = await project.getEnv();
    const good = await getBuiltRelease();
    // A different content hash, or the deploy would reuse the identical release already on disk.
    const v2 = await createReleaseVariant(good.dir, await mkdirp(join(root, 'candidates')), 'v2', (dir) =>
      writeFile(join(dir, 'VARIANT'), 'v2\n'),
    );

    // 1. The first deploy's monitor is running (quick-deploy says so only once it holds the lock and wrote its state).
    const first = await quickDeploy(root, good.dir, processEnv);
    assert.equal(first.code, 0, first.output);
    const firstDeployId = getDeployId(first.output)!;
    assert.match(first.output, new RegExp(`monitor:start .*pid \\d+ holds the monitor lock for ${firstDeployId}`));
    const firstState = (await readMonitorState(environment))!;
    assert.equal(firstState.deployId, firstDeployId);
    const firstPid = firstState.pid!;
    assert.ok(isPidAlive(firstPid));
    assert.equal((await readMonitorLockHolder(environment))?.pid, firstPid);

    // 2. A second deploy inside that window supersedes it before changing anything, then starts its own monitor.
    const second = await quickDeploy(root, v2, processEnv);
    assert.equal(second.code, 0, second.output);
    const secondDeployId = getDeployId(second.output)!;
    assert.notEqual(secondDeployId, firstDeployId);
    await waitFor('the superseded monitor to exit', async () => !isPidAlive(firstPid), 10_000);
    const oldSummary = JSON.parse(await readFile(join(root, 'monitor_logs', `${firstDeployId}.summary.json`), 'utf8'));
    assert.equal(oldSummary.outcome, 'superseded');
    assert.equal(oldSummary.supersededBy, secondDeployId);
    assert.match(
      await readFile(join(root, 'monitor_logs', `${firstDeployId}.html`), 'utf8'),
      new RegExp(`Superseded</dt><dd>by ${secondDeployId}`),
    );
    const outbox = await Promise.all(
      (await readdir(join(root, 'notifications_out'))).map((f) => readFile(join(root, 'notifications_out', f), 'utf8')),
    );
    assert.ok(
      outbox.some((x) => x.includes('monitor-complete') && x.includes(firstDeployId) && x.includes('superseded')),
      'a monitor-complete notification says superseded',
    );
    const journal = await readJournal(environment);
    const supersededAt = journal.findIndex(
      (e) => e.deployId === firstDeployId && e.step === 'monitor:finish' && e.outcome === 'superseded',
    );
    const secondStartAt = journal.findIndex((e) => e.deployId === secondDeployId && e.step === 'deploy:start');
    assert.ok(
      supersededAt >= 0 && supersededAt < secondStartAt,
      'the old monitor finished before the new deploy began',
    );
    const secondState = (await readMonitorState(environment))!;
    assert.equal(secondState.deployId, secondDeployId);
    assert.equal(secondState.releaseId, basename(v2));
    const secondPid = secondState.pid!;
    assert.notEqual(secondPid, firstPid);
    assert.equal((await readMonitorLockHolder(environment))?.pid, secondPid, 'the new monitor holds the lock');

    // 3. SIGKILL mid-window: status says it stopped beating within
    // one poll interval (1 s), and so does any other command.
    process.kill(secondPid, 'SIGKILL');
    await waitFor('the killed monitor to be gone', async () => !isPidAlive(secondPid), 5_000);
    const killedAtMs = Date.now();
    const status = await runCliForTest(['status', '--env', 'local'], { cwd: root });
    assert.ok(Date.now() - killedAtMs < 1000, 'status answered within one poll interval');
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`watches: deploy ${secondDeployId}, release ${basename(v2)}; serving: ${basename(v2)}\\n`),
    );
    assert.match(
      status.stdout,
      new RegExp(
        'heartbeat: NOT BEATING since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: no monitor holds its lock \\(pid ' +
          '\\d+ is gone\\)|heartbeat: NOT BEATING since .*: its process \\(pid \\d+\\) is gone',
      ),
    );
    const backupPlan = await runCliForTest(['backup', '--env', 'local', '--dry-run'], { cwd: root });
    assert.match(
      backupPlan.stderr,
      new RegExp(
        `dhash: WARNING: the monitor of local \\(deploy ${secondDeployId}, release ${basename(v2)}\\) ` +
          `has stopped beating since`,
      ),
    );
    assert.match(backupPlan.stderr, new RegExp(`--deploy ${secondDeployId} --resume`));

    // 4. --resume picks the window up again: same window, next poll index, beating again.
    const resumed = runProcess(
      process.execPath,
      [join(root, 'dist/cli/main.js'), 'monitor', '--env', 'local', '--deploy', secondDeployId, '--resume'],
      root,
      processEnv,
    );
    t.after(async () => void (resumed.child.exitCode === null && resumed.child.kill('SIGKILL')));
    await waitFor(
      'the resumed monitor to beat',
      async () =>
        (await readMonitorState(environment))?.pid === resumed.child.pid &&
        (await readMonitorState(environment))!.pollIndex > secondState.pollIndex,
      20_000,
    );
    assert.equal((await readMonitorState(environment))!.windowStartMs, secondState.windowStartMs);
    assert.match(
      (await runCliForTest(['status', '--env', 'local'], { cwd: root })).stdout,
      new RegExp(`heartbeat: beating \\(pid ${resumed.child.pid}, last `),
    );

    // 5. `current` switched out of band, then the service dies: the health gate fires, but the monitor touches nothing.
    await replaceSymlinkAtomic(`releases/${good.releaseId}`, environment.currentLink);
    project.stopService();
    const ended = await resumed.done;
    assert.equal(ended.code, 3, ended.output);
    assert.match(
      ended.output,
      new RegExp(
        `superseded: current points at ${good.releaseId}, not at ${basename(v2)}, the release this ` +
          `monitor watches\\. It stopped without acting\\.`,
      ),
    );
    const finalState = (await readMonitorState(environment))!;
    assert.equal(finalState.outcome, 'superseded');
    assert.equal(finalState.rollback, undefined, 'no rollback was started');
    assert.equal(basename(await readlink(environment.currentLink)), good.releaseId, 'current is left as it was');
    assert.deepEqual(
      (await readJournal(environment)).filter((e) => e.kind === 'rollback'),
      [],
    );
    assert.equal(existsSync(join(root, 'incidents')) ? (await readdir(join(root, 'incidents'))).length : 0, 0);
    assert.equal(await readMonitorLockHolder(environment), undefined, 'the lock is released');
  },
);

test(
  'quick-deploy fails monitor:start, non-zero with the reason, when its monitor cannot take the lock',
  { timeout: 300_000 },
  async (t) => {
    const { project, processEnv } = await createProject(t);
    const environment = await project.getEnv();
    const good = await getBuiltRelease();
    // Another live monitor holds the lock. It stands in as this test process: a deploy never supersedes its own
    // process, so the deploy goes ahead and the monitor it starts is the one refused.
    await mkdir(environment.stateDir, { recursive: true });
    await writeFile(
      join(environment.stateDir, 'monitor.lock'),
      JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) + '\n',
    );
    const r = await runCliForTest(['quick-deploy', '--env', 'local', '--release', good.dir], {
      cwd: project.root,
      processEnv,
    });
    const output = r.stdout + r.stderr;
    assert.equal(r.exitCode, 4, output);
    assert.match(output, /FAILED at monitor:start/);
    assert.match(
      output,
      new RegExp(
        'The monitor of deploy local-\\d{8}T\\d{9}Z did not start: it exited with code 3 \\(dhash: Another ' +
          'monitor of `local` is running \\(pid \\d+',
      ),
    );
    assert.match(output, /is serving without its monitor: a human must act/);
    assert.doesNotMatch(output, /monitor: +running detached/);
  },
);

test(
  "bad traffic after a superseding deploy rolls back once, to the previous release, with the new deploy's backup",
  { timeout: 600_000 },
  async (t) => {
    const { project, processEnv } = await createProject(t, {
      monitor: { window: '10m', poll: [{ every: '1s' }] },
      gates: { extractionFailureRate: { window: '10s', minEvents: 5 }, p95HashTime: { window: '10s', minEvents: 5 } },
    });
    const { root, baseUrl } = project;
    const environment = await project.getEnv();
    const good = await getBuiltRelease();
    // JPEG hashing broken; the smoke tests hash a PNG, so the deploy itself passes.
    const faulty = await createReleaseVariant(
      good.dir,
      await mkdirp(join(root, 'candidates')),
      'faulty',
      breakJpegHashing,
    );
    const first = await quickDeploy(root, good.dir, processEnv);
    assert.equal(first.code, 0, first.output);
    const firstDeployId = getDeployId(first.output)!;
    const png = await createFixtureImage({ kind: 'gradient', width: 40, height: 30, seed: 3, format: 'png' });
    const jpeg = await createFixtureImage({ kind: 'noise', width: 40, height: 30, seed: 4, format: 'jpeg' });
    let isFaultyTraffic = false;
    let isRunning = true;
    const traffic = (async () => {
      for (let i = 0; isRunning; i++) {
        const body = isFaultyTraffic && i % 2 === 0 ? jpeg : png;
        await fetch(`${baseUrl}/v1/hash`, {
          method: 'POST',
          headers: { 'content-type': body === jpeg ? 'image/jpeg' : 'image/png' },
          body,
          signal: AbortSignal.timeout(2000),
        })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t.after(async () => {
      isRunning = false;
      await traffic;
    });

    const second = await quickDeploy(root, faulty, processEnv);
    assert.equal(second.code, 0, second.output);
    const secondDeployId = getDeployId(second.output)!;
    const backupFile = (await readJournal(environment)).find(
      (e) => e.deployId === secondDeployId && e.backupFile,
    )?.backupFile;
    assert.ok(backupFile, 'the second deploy recorded its backup');
    const monitorPid = (await readMonitorState(environment))!.pid!;
    isFaultyTraffic = true;
    await waitFor(
      'the monitor of the second deploy to finish',
      async () => (await readMonitorState(environment))?.outcome !== undefined && !isPidAlive(monitorPid),
      180_000,
      250,
    );
    isRunning = false;
    await traffic;

    assert.equal(
      JSON.parse(await readFile(join(root, 'monitor_logs', `${firstDeployId}.summary.json`), 'utf8')).supersededBy,
      secondDeployId,
    );
    const summary = JSON.parse(await readFile(join(root, 'monitor_logs', `${secondDeployId}.summary.json`), 'utf8'));
    assert.equal(summary.outcome, 'rolled-back', JSON.stringify(summary));
    assert.equal(summary.violation.gate, 'extractionFailureRate');
    assert.equal(summary.rollback.backupFile, backupFile, "the new deploy's backup was used");
    assert.equal(
      new Set((await readJournal(environment)).filter((e) => e.kind === 'rollback').map((e) => e.deployId)).size,
      1,
      'exactly one rollback',
    );
    assert.equal(basename(await readlink(environment.currentLink)), good.releaseId, 'the previous release serves');
    assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
    assert.equal(
      (await fetch(`${baseUrl}/v1/hash`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg }))
        .status,
      200,
    );
    const incidents = (await readdir(join(root, 'incidents'))).filter((n) => n.endsWith('.json'));
    assert.equal(incidents.length, 1);
    const incident = JSON.parse(await readFile(join(root, 'incidents', incidents[0]), 'utf8'));
    assert.equal(incident.deployId, secondDeployId);
    assert.equal(incident.releaseId, basename(faulty), 'the incident names the release that was serving');
  },
);

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
