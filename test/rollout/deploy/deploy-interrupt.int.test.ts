// Ctrl-C during a deploy, to the real CLI process: forward
// progress stops, the switch-back still completes and is verified.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT, waitFor } from '../../helpers/processes.js';
import { createDeployProject, createReleaseVariant, type DeployProject } from '../../helpers/deploy-project.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../../src/lib/clock.js';

let workDir: string;
let releaseA: string;
let releaseUnhealthy: string;

// Stays up and answers 503 to everything: its health checks never pass, so the deploy waits in deploy:healthcheck.
const UNHEALTHY_MAIN = `import http from 'node:http';
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const host = process.argv[process.argv.indexOf('--host') + 1] || '127.0.0.1';
http.createServer((req, res) => {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end('{"status":"unhealthy","failing":"test"}');
}).listen(port, host);
`;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dhash-interrupt-'));
  releaseA = (await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() })).dir;
  releaseUnhealthy = await createReleaseVariant(releaseA, workDir, 'unhealthy', (dir) =>
    writeFile(join(dir, 'dist', 'cli', 'main.js'), UNHEALTHY_MAIN),
  );
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface RunningCli {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function spawnCli(cwd: string, args: string[]): RunningCli {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let text = '';
  child.stdout!.on('data', (c) => (text += c));
  child.stderr!.on('data', (c) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function withDeadline<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)),
  );
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Release A serving, then a deploy of the unhealthy release in the CLI, held in deploy:healthcheck (answering 503). */
async function startUnhealthyDeploy(t: TestContext): Promise<{ project: DeployProject; run: RunningCli }> {
  const project = await createDeployProject(t);
  const first = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);

  const run = spawnCli(project.root, ['deploy', '--env', 'local', '--release', releaseUnhealthy]);
  t.after(() => void run.child.kill('SIGKILL'));
  // In deploy:healthcheck: the new release is up and answering 503.
  await waitFor(
    'the unhealthy release to answer 503 during deploy:healthcheck',
    async () => (await fetch(`${project.baseUrl}/health`)).status === 503,
    30_000,
  ).catch((error) => {
    throw new Error(`${(error as Error).message}; the deploy printed:\n${run.output()}`);
  });
  return { project, run };
}

test(`Ctrl-C during the health check of an unhealthy release leaves the previous release serving, \
reported as serving (exit 1)`, async (t) => {
  const { project, run } = await startUnhealthyDeploy(t);
  assert.match(run.output(), /✓ deploy:restart/);
  run.child.kill('SIGINT');
  const code = await withDeadline('the deploy to finish after SIGINT', run.exited, 60_000);
  const output = run.output();

  assert.equal(code, 1, output);
  assert.doesNotMatch(output, /a human must act/i);
  assert.doesNotMatch(output, /switching back .* FAILED/);
  assert.match(output, /✓ deploy:switch-back/);
  const idA = basename(releaseA);
  assert.match(
    output,
    new RegExp(
      `FAILED: deploy of ${basename(releaseUnhealthy)} failed \\(health check failed: interrupted ` +
        `\\(received SIGINT\\)\\); ${idA} is serving \\(current → releases/${idA}; ` +
        `${project.baseUrl}/health answered health OK \\(200\\)\\)`,
    ),
  );
  // What the test sees itself: the previous release behind `current`, answering health OK.
  assert.equal(basename(await readlink(join(project.root, '.dhash', 'local', 'current'))), idA);
  const health = await fetch(`${project.baseUrl}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
});

test('a second Ctrl-C within 5 s abandons the switch-back and reports exactly what is left (exit 4)', async (t) => {
  const { project, run } = await startUnhealthyDeploy(t);
  run.child.kill('SIGINT');
  await waitFor(
    'the switch-back to announce it runs to completion',
    async () => run.output().includes('! deploy:switch-back runs to completion despite the interrupt'),
    30_000,
    5,
  );
  run.child.kill('SIGINT');
  const code = await withDeadline('the deploy to end after the second SIGINT', run.exited, 60_000);
  const output = run.output();

  assert.equal(code, 4, output);
  const left = new RegExp(
    `switching back to ${basename(releaseA)} was ABANDONED by a second interrupt; ` +
      `state left: current → releases/(\\S+); ` +
      `${project.baseUrl}/health (answered|did not answer) health OK[^:]*: a human must act`,
  ).exec(output);
  assert.ok(left, output);
  // The state reported is the state left: `current` is where the message says.
  assert.equal(basename(await readlink(join(project.root, '.dhash', 'local', 'current'))), left[1]);
});
