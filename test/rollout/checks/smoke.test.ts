// Smoke tests against the real service in-process, and against
// a stand-in that lacks a metric: exact checks, readable log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { startTestService } from '../../helpers/service.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../src/rollout/config/environments.js';
import { runSmokeTests } from '../../../src/rollout/checks/smoke.js';
import { runCliForTest } from '../../helpers/cli.js';
import { writeFile } from 'node:fs/promises';

function envFor(root: string, baseUrl: string) {
  return resolveEnvironmentConfig(
    root,
    'local',
    { ...EMBEDDED_LOCAL, service: { ...EMBEDDED_LOCAL.service, baseUrl } },
    {},
  );
}

test(`passes every check against the real service, hashes the fixture to its Pillow hash, and leaves \
the library empty`, async (t) => {
  const service = await startTestService(t);
  const root = await createTempDir(t);
  const result = await runSmokeTests(envFor(root, service.url));
  assert.deepEqual(
    result.checks.map((c) => `${c.name}:${c.ok}`),
    ['smoke:health:true', 'smoke:metrics:true', 'smoke:fixture-hash:true', 'smoke:library-round-trip:true'],
    JSON.stringify(result.checks),
  );
  assert.equal(result.checks[2].detail, 'fixture gradient hashed to debebc3c7c79f9b3 as expected');
  assert.equal(result.ok, true);
  const library = (await (await fetch(`${service.url}/v1/library`)).json()) as { total: number };
  assert.equal(library.total, 0);
  const log = await readFile(result.logFile, 'utf8');
  assert.match(log, /PASSED/);
  assert.match(log, /\[PASS\] smoke:library-round-trip/);
});

test('fails naming the missing metric, and `dhash smoke` exits 1 naming the failed check', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (req.url === '/metrics')
      return res.writeHead(200).end('dhash_build_info{version="1"} 1\ndhash_extractions_total{outcome="success"} 0\n');
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const root = await createTempDir(t);
  const result = await runSmokeTests(envFor(root, url), { logFile: join(root, 'smoke.log') });
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.checks.map((c) => c.ok),
    [true, false, false, false],
  );
  assert.equal(
    result.checks[1].detail,
    'missing metric(s): dhash_hash_duration_seconds, dhash_low_confidence_queue_length',
  );
  assert.match(await readFile(join(root, 'smoke.log'), 'utf8'), /\[FAIL\] smoke:metrics/);

  await writeFile(
    join(root, 'environments.json'),
    JSON.stringify({ environments: { local: { root: '.dhash/local', service: { port: 1, baseUrl: url } } } }),
  );
  const cli = await runCliForTest(['smoke', '--env', 'local'], { cwd: root });
  assert.equal(cli.exitCode, 1);
  assert.match(cli.stdout, /FAILED: smoke:metrics, smoke:fixture-hash, smoke:library-round-trip/);
});
