// `dhash gates serve` against a real token-protected service: the
// verdict's JSON contract, Flagger's 200/503, and the exported template.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createFixtureImage } from '../../helpers/images.js';
import { runCliForTest } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import { runLongRunningCli, runServeCli, waitForListening } from '../../helpers/serve-cli.js';

const ROLLOUT_TOKEN = 'r0llout-t0ken-0123456789abcdef';
const SERVICE_ENV = { DHASH_API_TOKENS: `rollout:read:${ROLLOUT_TOKEN}` };
const FLAGGER_PAYLOAD = {
  name: 'dhash',
  namespace: 'prod',
  phase: 'Progressing',
  checksum: 'abc',
  metadata: { type: 'rollout' },
};

interface VerdictBody {
  data: {
    ok: boolean;
    verdict: string;
    reason: string;
    gates: { name: string; verdict: string; value: number | null }[];
    env: string;
    release: string | null;
    at: string;
  };
}

/**
 * A project whose `local` environment points at `serviceUrl`, with the repo's quality gates (20 events minimum, 5 %).
 */
async function createProject(t: TestContext, serviceUrl: string): Promise<string> {
  const dir = await createTempDir(t);
  const environments = {
    environments: {
      local: {
        root: '.dhash/local',
        service: { host: '127.0.0.1', port: 1, baseUrl: serviceUrl },
        target: { type: 'process' },
      },
    },
  };
  await writeFile(join(dir, 'environments.json'), JSON.stringify(environments));
  await copyFile(join(REPO_ROOT, 'quality-gates-config.json'), join(dir, 'quality-gates-config.json'));
  return dir;
}

async function startAll(t: TestContext) {
  const serviceDir = await createTempDir(t);
  const service = runServeCli(
    t,
    ['--port', '0', '--db', join(serviceDir, 'dhash.sqlite'), '--migrate', '--protect-probes'],
    { cwd: serviceDir, env: SERVICE_ENV },
  );
  const serviceUrl = await waitForListening(service);
  const project = await createProject(t, serviceUrl);
  const gates = runLongRunningCli(t, ['gates', 'serve', '--env', 'local', '--port', '0', '--release', 'r-test-1'], {
    cwd: project,
    env: { DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN },
  });
  return { service, serviceUrl, project, gates, gatesUrl: await waitForListening(gates) };
}

async function getVerdict(gatesUrl: string): Promise<VerdictBody['data']> {
  const response = await fetch(`${gatesUrl}/v1/verdict`);
  assert.equal(
    response.status,
    200,
    'a judged verdict is always 200: Argo treats other statuses as measurement errors',
  );
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return ((await response.json()) as VerdictBody).data;
}

async function postFlagger(gatesUrl: string): Promise<{ status: number; verdict: string }> {
  const response = await fetch(`${gatesUrl}/v1/flagger`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(FLAGGER_PAYLOAD),
  });
  const { data } = (await response.json()) as VerdictBody;
  return { status: response.status, verdict: data.verdict };
}

async function postImages(serviceUrl: string, body: Buffer | string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const response = await fetch(`${serviceUrl}/v1/hash`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${ROLLOUT_TOKEN}` },
      body,
    });
    await response.arrayBuffer();
  }
}

/** Argo's `{$.data}`: a JSONPath of dotted member names in braces, applied to the body. */
function selectJsonPath(body: unknown, jsonPath: string): unknown {
  const match = /^\{\$((?:\.[A-Za-z_][\w-]*)*)\}$/.exec(jsonPath);
  if (!match) throw new Error(`unsupported jsonPath ${jsonPath}`);
  return match[1]
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], body);
}

/** The two condition shapes the template uses: `result.<field> == <true|false|number|'text'>`. */
function evaluateCondition(condition: string, result: unknown): boolean {
  const match = /^result\.(\w+) == (true|false|-?\d+(?:\.\d+)?|'[^']*'|"[^"]*")$/.exec(condition);
  if (!match) throw new Error(`unsupported condition ${condition}`);
  const literal = /^['"]/.test(match[2]) ? match[2].slice(1, -1) : JSON.parse(match[2]);
  return (result as Record<string, unknown>)[match[1]] === literal;
}

/** Reads one `key: "json string"` field of the emitted YAML. */
function readYamlString(yaml: string, key: string): string {
  const match = new RegExp(`^\\s*${key}: (".*")$`, 'm').exec(yaml);
  if (!match) throw new Error(`no ${key} in\n${yaml}`);
  return JSON.parse(match[1]) as string;
}

async function measureLikeArgo(yaml: string): Promise<{ isSuccess: boolean; isFailure: boolean }> {
  const body = await (await fetch(readYamlString(yaml, 'url'))).json();
  const result = selectJsonPath(body, readYamlString(yaml, 'jsonPath'));
  return {
    isSuccess: evaluateCondition(readYamlString(yaml, 'successCondition'), result),
    isFailure: evaluateCondition(readYamlString(yaml, 'failureCondition'), result),
  };
}

test(`the verdict goes inconclusive → pass → fail as the extraction failure rate crosses its gate; \
Flagger answers 503, 200, 503`, async (t) => {
  const { serviceUrl, gatesUrl, gates } = await startAll(t);

  const fresh = await getVerdict(gatesUrl);
  assert.equal(fresh.verdict, 'inconclusive');
  assert.equal(fresh.ok, false);
  assert.equal(
    fresh.reason,
    'Not every gate could be judged: extractionFailureRate (0 attempts in window, 20 needed), p95HashTime ' +
      '(0 hashes in window, 20 needed).',
  );
  assert.deepEqual(await postFlagger(gatesUrl), { status: 503, verdict: 'inconclusive' });

  const image = await createFixtureImage({ kind: 'gradient', width: 32, height: 24, seed: 3, format: 'png' });
  await postImages(serviceUrl, image, 20);
  const healthy = await getVerdict(gatesUrl);
  assert.equal(healthy.ok, true, healthy.reason);
  assert.equal(healthy.verdict, 'pass');
  assert.equal(healthy.env, 'local');
  assert.equal(healthy.release, 'r-test-1');
  assert.ok(Math.abs(Date.parse(healthy.at) - Date.now()) < 60_000, healthy.at);
  assert.deepEqual(
    healthy.gates.map((g) => `${g.name}:${g.verdict}`),
    ['extractionFailureRate:pass', 'p95HashTime:pass', 'lowConfidenceQueue:pass'],
  );
  assert.deepEqual(await postFlagger(gatesUrl), { status: 200, verdict: 'pass' });

  // 1 failure in 21 is 4.8 %, under 5 %: still a pass. The second, 2 in 22 = 9.1 %, breaks the gate.
  await postImages(serviceUrl, 'not an image', 1);
  assert.equal((await getVerdict(gatesUrl)).verdict, 'pass');
  await postImages(serviceUrl, 'not an image', 1);
  const failing = await getVerdict(gatesUrl);
  assert.equal(failing.verdict, 'fail');
  assert.equal(failing.ok, false);
  assert.equal(failing.reason, 'ExtractionFailureRate is 9.1 %, over its threshold of 5 %.');
  assert.deepEqual(await postFlagger(gatesUrl), { status: 503, verdict: 'fail' });
  assert.ok(!gates.readStdout().includes(ROLLOUT_TOKEN), 'the rollout token is not in the gates log');
});

test('a source error halts: with the service down the verdict is fail and Flagger gets 503', async (t) => {
  const { service, gatesUrl } = await startAll(t);
  assert.equal(await service.stop(), 0);
  const down = await getVerdict(gatesUrl);
  assert.equal(down.verdict, 'fail');
  assert.match(down.reason, /^The service is not healthy \(ECONNREFUSED\)\.$/);
  assert.equal((await postFlagger(gatesUrl)).status, 503);
  const badBody = await fetch(`${gatesUrl}/v1/flagger`, { method: 'POST', body: '{not json' });
  assert.equal(badBody.status, 400);
  assert.equal(((await badBody.json()) as { error: { code: string } }).error.code, 'EBADREQUEST');
  assert.equal((await fetch(`${gatesUrl}/v1/verdict`, { method: 'POST' })).status, 405);
});

test(`without the rollout token the protected service cannot be read: the verdict is fail naming the \
401`, async (t) => {
  const serviceDir = await createTempDir(t);
  const service = runServeCli(
    t,
    ['--port', '0', '--db', join(serviceDir, 'dhash.sqlite'), '--migrate', '--protect-probes'],
    { cwd: serviceDir, env: SERVICE_ENV },
  );
  const project = await createProject(t, await waitForListening(service));
  const gates = runLongRunningCli(t, ['gates', 'serve', '--env', 'local', '--port', '0'], { cwd: project, env: {} });
  const verdict = await getVerdict(await waitForListening(gates));
  assert.equal(verdict.verdict, 'fail');
  assert.equal(verdict.release, null);
  assert.match(verdict.reason, /^The service is not healthy \(\{"error":\{"code":"EUNAUTHORIZED"/);
});

test(`the exported AnalysisTemplate's jsonPath and conditions, applied to the endpoint's own JSON, \
give success then failure`, async (t) => {
  const { serviceUrl, project, gatesUrl } = await startAll(t);
  const out = join(project, 'analysis.yaml');
  const exported = await runCliForTest(['export', 'argo-analysis', '--env', 'local', '--url', gatesUrl, '--out', out], {
    cwd: project,
  });
  assert.equal(exported.exitCode, 0, exported.stderr);
  const yaml = await readFile(out, 'utf8');
  const stdout = await runCliForTest(['export', 'argo-analysis', '--env', 'local', '--url', gatesUrl], {
    cwd: project,
  });
  assert.equal(stdout.stdout, yaml, 'stdout and --out write the same document');

  assert.match(
    yaml,
    /^apiVersion: argoproj\.io\/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n {2}name: "dhash-gates-local"$/m,
  );
  assert.equal(readYamlString(yaml, 'url'), `${gatesUrl}/v1/verdict`);
  assert.equal(readYamlString(yaml, 'jsonPath'), '{$.data}');
  assert.equal(readYamlString(yaml, 'successCondition'), 'result.ok == true');
  assert.equal(readYamlString(yaml, 'failureCondition'), "result.verdict == 'fail'");
  assert.equal(readYamlString(yaml, 'interval'), '2s', "local's poll cadence");
  assert.match(yaml, /^ {6}count: 90$/m, 'the 3m window at 2s');
  assert.match(yaml, /^ {6}failureLimit: 0$/m);

  assert.deepEqual(
    await measureLikeArgo(yaml),
    { isSuccess: false, isFailure: false },
    'inconclusive: neither condition holds',
  );
  const image = await createFixtureImage({ kind: 'gradient', width: 32, height: 24, seed: 3, format: 'png' });
  await postImages(serviceUrl, image, 20);
  assert.deepEqual(await measureLikeArgo(yaml), { isSuccess: true, isFailure: false });
  await postImages(serviceUrl, 'not an image', 3);
  assert.deepEqual(await measureLikeArgo(yaml), { isSuccess: false, isFailure: true });
});

test('export argo-analysis refuses a bad --url and a bad --interval with exit 2', async (t) => {
  const project = await createProject(t, 'http://127.0.0.1:9');
  const badUrl = await runCliForTest(['export', 'argo-analysis', '--env', 'local', '--url', 'nope'], { cwd: project });
  assert.equal(badUrl.exitCode, 2);
  assert.match(badUrl.stderr, /^dhash: Expected the `--url` option to be an http\(s\) URL such as/m);
  const badInterval = await runCliForTest(['export', 'argo-analysis', '--env', 'local', '--interval', '500ms'], {
    cwd: project,
  });
  assert.equal(badInterval.exitCode, 2);
  assert.match(
    badInterval.stderr,
    /^dhash: Expected the `--interval` option to be .* of at least 1s, got `500ms` \(string\)\.$/m,
  );
});
