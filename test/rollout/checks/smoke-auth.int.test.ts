// The rollout's own token (DHASH_ROLLOUT_TOKEN): smoke tests and
// the service signal source send it to a token-protected service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runServeCli, waitForListening } from '../../helpers/serve-cli.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../src/rollout/config/environments.js';
import { runSmokeTests } from '../../../src/rollout/checks/smoke.js';
import { createSignalSource } from '../../../src/rollout/signals/signal-source.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { checkHealthOnce, waitForHealthy } from '../../../src/rollout/checks/health.js';
import { getServiceAuthHeaders } from '../../../src/rollout/signals/service/auth-headers.js';

const ROLLOUT_TOKEN = 'r0llout-t0ken-0123456789abcdef';
const QUERY = { windows: { extractionMs: 600_000, p95Ms: 900_000 }, timeoutMs: 5000 };

async function startProtectedService(t: import('node:test').TestContext) {
  const dir = await createTempDir(t);
  const run = runServeCli(t, ['--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate', '--protect-probes'], {
    cwd: dir,
    env: { DHASH_API_TOKENS: `rollout:write:${ROLLOUT_TOKEN}` },
  });
  return { dir, run, url: await waitForListening(run) };
}

function envFor(root: string, baseUrl: string, processEnv: Record<string, string>) {
  return resolveEnvironmentConfig(
    root,
    'local',
    { ...EMBEDDED_LOCAL, service: { ...EMBEDDED_LOCAL.service, baseUrl } },
    processEnv,
  );
}

test(`smoke tests pass against a token-protected service with DHASH_ROLLOUT_TOKEN set, and fail naming \
401 without it`, async (t) => {
  const { run, url } = await startProtectedService(t);
  const root = await createTempDir(t);

  const withToken = await runSmokeTests(envFor(root, url, { DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN }));
  assert.deepEqual(
    withToken.checks.map((c) => `${c.name}:${c.ok}`),
    ['smoke:health:true', 'smoke:metrics:true', 'smoke:fixture-hash:true', 'smoke:library-round-trip:true'],
    JSON.stringify(withToken.checks),
  );

  const without = await runSmokeTests(envFor(root, url, {}));
  assert.equal(without.ok, false);
  assert.deepEqual(
    without.checks.map((c) => c.ok),
    [false, false, false, false],
  );
  assert.match(without.checks[0].detail, /^GET \/health answered 401 .*EUNAUTHORIZED/);
  assert.equal(without.checks[1].detail, 'GET /metrics answered 401');
  assert.match(without.checks[2].detail, /^POST \/v1\/hash answered 401 /);
  assert.match(without.checks[3].detail, /^POST \/v1\/library answered 401 /);

  const smokeLog = await readFile(withToken.logFile, 'utf8');
  assert.ok(!smokeLog.includes(ROLLOUT_TOKEN) && !run.readStdout().includes(ROLLOUT_TOKEN), 'the token is in no log');
});

test(`the service signal source sends the rollout token: measurements are ok with it and errors naming \
HTTP 401 without`, async (t) => {
  const { url } = await startProtectedService(t);
  const root = await createTempDir(t);
  const clock = createSystemClock();

  const ok = await createSignalSource(envFor(root, url, { DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN }), { clock }).measure(
    QUERY,
  );
  assert.equal(ok.phase, 'ok', ok.message);
  const value = ok.value as { health: { ok: boolean }; metrics?: { extractionFailure: number } };
  assert.equal(value.health.ok, true);
  assert.equal(value.metrics?.extractionFailure, 0);

  const refused = await createSignalSource(envFor(root, url, {}), { clock }).measure(QUERY);
  assert.equal(refused.phase, 'error');
  assert.match(
    refused.message ?? '',
    /^health: \{"error":\{"code":"EUNAUTHORIZED".*; metrics: GET \/metrics answered HTTP 401$/,
  );
});

test('the rollout token is redacted from any output built with the environment', () => {
  const redact = createRedactor({
    DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN,
    DHASH_API_TOKENS: `a:read:${'k'.repeat(20)},b:admin:${'m'.repeat(24)}`,
  });
  assert.equal(
    redact(`Bearer ${ROLLOUT_TOKEN} then ${'k'.repeat(20)} and ${'m'.repeat(24)}`),
    'Bearer [REDACTED] then [REDACTED] and [REDACTED]',
  );
});

test('health waits send the rollout token to a service whose probes need one', async (t) => {
  const { url } = await startProtectedService(t);
  const root = await createTempDir(t);
  const clock = createSystemClock();
  const environment = envFor(root, url, { DHASH_ROLLOUT_TOKEN: ROLLOUT_TOKEN });
  const waited = await waitForHealthy(environment.healthUrl, {
    consecutiveOk: 2,
    intervalMs: 10,
    timeoutMs: 5000,
    clock,
    headers: getServiceAuthHeaders(environment),
  });
  assert.equal(waited.ok, true, waited.reason);
  const refused = await checkHealthOnce(environment.healthUrl, clock, 5000);
  assert.deepEqual([refused.ok, refused.status], [false, 401]);
});
