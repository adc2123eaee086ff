// Preflight judges the rollback gates on the release serving now:
// refused in production, --force proceeds, warned elsewhere.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import { createDeployProject, createReleaseVariant, type DeployProject } from '../../helpers/deploy-project.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createFixturePng } from '../../../src/rollout/checks/smoke/fixture-image.js';

let workDir: string;
let releaseA: string;
let releaseB: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dhash-preflight-gates-'));
  releaseA = (await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() })).dir;
  releaseB = await createReleaseVariant(releaseA, workDir, 'variantb', (dir) =>
    writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n'),
  );
});
after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const REFUSAL =
  'extractionFailureRate is 12 % on the release serving now (threshold 5 %): the new release would be ' +
  'rolled back for a condition it did not cause.';

/** A project with release A serving, `local` marked production or not, and the repo's quality gates. */
async function createServingProject(t: TestContext, isProduction: boolean): Promise<DeployProject> {
  const project = await createDeployProject(t);
  const file = join(project.root, 'environments.json');
  const environments = JSON.parse(await readFile(file, 'utf8'));
  environments.environments.local.isProduction = isProduction;
  await writeFile(file, JSON.stringify(environments, null, 2));
  await copyFile(join(REPO_ROOT, 'quality-gates-config.json'), join(project.root, 'quality-gates-config.json'));
  const deployed = await runCliForTest(['deploy', '--env', 'local', '--release', releaseA], { cwd: project.root });
  assert.equal(deployed.exitCode, 0, deployed.stdout + deployed.stderr);
  assert.match(
    deployed.stdout,
    /\[ OK \] preflight:gates\s+nothing is serving yet \(first deploy\): no gates to judge on a current release/,
  );
  return project;
}

async function readExtractions(baseUrl: string): Promise<{ success: number; failure: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (outcome: string) =>
    Number(new RegExp(`^dhash_extractions_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { success: read('success'), failure: read('failure') };
}

/**
 * Clients sending non-images: 3 failures in 25 attempts (12 %), counting what the deploy's smoke tests already sent.
 */
async function pushFailureRateTo12Percent(baseUrl: string): Promise<void> {
  const png = await createFixturePng();
  const start = await readExtractions(baseUrl);
  assert.ok(start.success <= 22 && start.failure <= 3, JSON.stringify(start));
  for (let i = start.success; i < 22; i++) {
    assert.equal(
      (await fetch(`${baseUrl}/v1/hash`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } }))
        .status,
      200,
    );
  }
  for (let i = start.failure; i < 3; i++) {
    const response = await fetch(`${baseUrl}/v1/hash`, {
      method: 'POST',
      body: Buffer.from('this is not an image'),
      headers: { 'content-type': 'image/png' },
    });
    assert.ok(response.status >= 400 && response.status < 500, String(response.status));
  }
  assert.deepEqual(await readExtractions(baseUrl), { success: 22, failure: 3 });
}

const currentOf = async (project: DeployProject) =>
  basename(await readlink(join(project.root, '.dhash', 'local', 'current')));

test(`in production a gate already violated on the serving release refuses the deploy (exit 3); \
--force deploys anyway`, async (t) => {
  const project = await createServingProject(t, true);
  await pushFailureRateTo12Percent(project.baseUrl);

  const refused = await runCliForTest(['deploy', '--env', 'local', '--release', releaseB], { cwd: project.root });
  assert.equal(refused.exitCode, 3, refused.stdout + refused.stderr);
  assert.ok(refused.stderr.startsWith(`dhash: ${REFUSAL}\n`), refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(
      `Measured on ${basename(releaseA)} over the service's counters since it started \\(gate window ` +
        `10m\\) before anything changed\\.`,
    ),
  );
  assert.match(refused.stderr, /or pass --force to deploy anyway/);
  assert.equal(await currentOf(project), basename(releaseA));

  const forced = await runCliForTest(['deploy', '--env', 'local', '--release', releaseB, '--force'], {
    cwd: project.root,
  });
  assert.equal(forced.exitCode, 0, forced.stdout + forced.stderr);
  assert.ok(forced.stdout.includes(`[WARN] preflight:gates        ${REFUSAL}`), forced.stdout);
  assert.match(forced.stdout, /Deploying anyway \(--force\)\./);
  assert.equal(await currentOf(project), basename(releaseB));
});

test('outside production the same violated gate is a warning and the deploy proceeds', async (t) => {
  const project = await createServingProject(t, false);
  await pushFailureRateTo12Percent(project.baseUrl);
  const deployed = await runCliForTest(['deploy', '--env', 'local', '--release', releaseB], { cwd: project.root });
  assert.equal(deployed.exitCode, 0, deployed.stdout + deployed.stderr);
  assert.ok(deployed.stdout.includes(`[WARN] preflight:gates        ${REFUSAL}`), deployed.stdout);
  assert.equal(await currentOf(project), basename(releaseB));
});

test('a healthy serving release passes the gate check', async (t) => {
  const project = await createServingProject(t, true);
  const dry = await runCliForTest(['deploy', '--env', 'local', '--release', releaseB, '--dry-run'], {
    cwd: project.root,
  });
  assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(
      `\\[ OK \\] preflight:gates\\s+extractionFailureRate too few events, p95HashTime too few events, ` +
        `lowConfidenceQueue 0 items on ${basename(releaseA)}: no rollback gate violated`,
    ),
  );
});
