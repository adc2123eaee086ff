// API tokens through the real `dhash serve` on 127.0.0.1: 401/403
// by scope, open probes, token files, non-loopback refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createFixtureImage } from '../../helpers/images.js';
import { runServeCli, waitForListening } from '../../helpers/serve-cli.js';

const READ_TOKEN = 'r3ad-t0ken-0123456789abcdef';
const WRITE_TOKEN = 'wr1te-t0ken-0123456789abcdef';
const ADMIN_TOKEN = 'adm1n-t0ken-0123456789abcdef';
const TOKENS = `reader:read:${READ_TOKEN},writer:write:${WRITE_TOKEN},root:admin:${ADMIN_TOKEN}`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = (token?: string) => ({ 'content-type': 'application/json', ...(token ? bearer(token) : {}) });

async function startServe(t: import('node:test').TestContext, args: string[], env: Record<string, string>) {
  const dir = await createTempDir(t);
  const run = runServeCli(t, ['--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate', ...args], {
    cwd: dir,
    env,
  });
  return { dir, run, url: await waitForListening(run) };
}

async function readError(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

test(`a write needs a write token: none gets 401, read gets 403, write and admin succeed; reads work \
with read`, async (t) => {
  const { run, url } = await startServe(t, ['--host', '127.0.0.1'], { DHASH_API_TOKENS: TOKENS });
  const entry = JSON.stringify({ label: 'cat', hash: '8f373714acfcf4d0' });

  const anonymous = await fetch(`${url}/v1/library`, { method: 'POST', headers: json(), body: entry });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="dhash"');
  assert.deepEqual(await readError(anonymous), {
    code: 'EUNAUTHORIZED',
    message: 'POST /v1/library needs an API token: send `Authorization: Bearer <token>`.',
  });

  const reader = await fetch(`${url}/v1/library`, { method: 'POST', headers: json(READ_TOKEN), body: entry });
  assert.equal(reader.status, 403);
  assert.match(
    reader.headers.get('www-authenticate') ?? '',
    /^Bearer realm="dhash", error="insufficient_scope", scope="write"$/,
  );
  assert.deepEqual(await readError(reader), {
    code: 'EFORBIDDEN',
    message: 'The token `reader` has scope read; POST /v1/library needs write.',
  });

  const writer = await fetch(`${url}/v1/library`, { method: 'POST', headers: json(WRITE_TOKEN), body: entry });
  assert.equal(writer.status, 201);
  const { id } = (await writer.json()) as { id: number };

  const list = await fetch(`${url}/v1/library`, { headers: bearer(READ_TOKEN) });
  assert.equal(list.status, 200);
  assert.equal(((await list.json()) as { total: number }).total, 1);
  assert.equal((await fetch(`${url}/v1/library/${id}`, { method: 'DELETE', headers: bearer(READ_TOKEN) })).status, 403);
  assert.equal(
    (await fetch(`${url}/v1/library/${id}`, { method: 'DELETE', headers: bearer(ADMIN_TOKEN) })).status,
    200,
  );

  const image = await createFixtureImage({ kind: 'gradient', width: 64, height: 48, seed: 1, format: 'png' });
  const hashed = await fetch(`${url}/v1/hash`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', ...bearer(READ_TOKEN) },
    body: image,
  });
  assert.equal(hashed.status, 200);
  assert.match(((await hashed.json()) as { hash: string }).hash, /^[0-9a-f]{16}$/);
  // A refused upload is not an extraction failure: anyone could otherwise push the gate over and force a rollback.
  assert.equal(
    (await fetch(`${url}/v1/hash`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image })).status,
    401,
  );
  assert.equal(
    (await fetch(`${url}/v1/match`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'not an image' }))
      .status,
    401,
  );

  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200, 'probes stay open by default');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^dhash_extractions_total\{outcome="failure"\} 0$/m);
  assert.match(metrics, /^dhash_extractions_total\{outcome="success"\} 1$/m);
  assert.equal(
    (await fetch(`${url}/no/such/route`)).status,
    401,
    'an unknown path tells a caller without a token nothing',
  );

  const log = run.readStdout();
  assert.match(log, /"statusCode":401/);
  assert.match(log, /"statusCode":403/);
  for (const token of [READ_TOKEN, WRITE_TOKEN, ADMIN_TOKEN])
    assert.ok(!log.includes(token), `the log must not contain ${token}`);
});

test('a wrong token of the same length and one of a different length both get 401 invalid_token', async (t) => {
  const { run, url } = await startServe(t, [], { DHASH_API_TOKENS: TOKENS });
  const sameLength = READ_TOKEN.slice(0, -1) + (READ_TOKEN.endsWith('f') ? 'e' : 'f');
  assert.equal(sameLength.length, READ_TOKEN.length);
  for (const wrong of [sameLength, 'short-wrong-token', `${READ_TOKEN}x`, READ_TOKEN.toUpperCase()]) {
    const response = await fetch(`${url}/v1/library`, { headers: bearer(wrong) });
    assert.equal(response.status, 401, wrong);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="dhash", error="invalid_token"');
    assert.deepEqual(await readError(response), {
      code: 'EUNAUTHORIZED',
      message: "The bearer token sent to GET /v1/library is not one of this service's API tokens.",
    });
  }
  assert.equal(
    (await fetch(`${url}/v1/library`, { headers: { authorization: `Basic ${READ_TOKEN}` } })).status,
    401,
    'only the Bearer scheme',
  );
  assert.equal(
    (await fetch(`${url}/v1/library`, { headers: { authorization: `bearer ${READ_TOKEN}` } })).status,
    200,
    'the scheme is case-insensitive',
  );
  assert.ok(!run.readStdout().includes(sameLength) && !run.readStdout().includes(READ_TOKEN));
});

test('--protect-probes puts a read token on /health and /metrics', async (t) => {
  const { url } = await startServe(t, ['--protect-probes'], { DHASH_API_TOKENS: TOKENS });
  for (const path of ['/health', '/metrics']) {
    const anonymous = await fetch(`${url}${path}`);
    assert.equal(anonymous.status, 401, path);
    assert.equal((await readError(anonymous)).code, 'EUNAUTHORIZED');
    assert.equal((await fetch(`${url}${path}`, { headers: bearer(READ_TOKEN) })).status, 200, path);
  }
});

test('DHASH_PROTECT_PROBES=1 without any token refuses to start, naming the setting', async (t) => {
  const dir = await createTempDir(t);
  const run = runServeCli(t, ['--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate'], {
    cwd: dir,
    env: { DHASH_PROTECT_PROBES: '1' },
  });
  assert.equal(await run.exited, 2);
  assert.match(
    run.readStderr(),
    /^dhash: The service would accept requests without a token: DHASH_PROTECT_PROBES needs at least one API token\.$/m,
  );
});

test(`a non-loopback bind without tokens refuses to start with exit 2 naming --host and \
--insecure-no-auth`, async (t) => {
  const dir = await createTempDir(t);
  const run = runServeCli(t, ['--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate'], {
    cwd: dir,
    env: {},
  });
  assert.equal(await run.exited, 2);
  const stderr = run.readStderr();
  assert.match(
    stderr,
    /^dhash: The service would accept requests without a token: --host 0\.0\.0\.0 needs at least one API token\.$/m,
  );
  assert.match(stderr, /add --insecure-no-auth/);
  assert.equal(run.readStdout(), '', 'it never listened');
});

test('--insecure-no-auth starts on a non-loopback address with a loud warning', async (t) => {
  const dir = await createTempDir(t);
  const run = runServeCli(
    t,
    ['--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate', '--insecure-no-auth'],
    { cwd: dir, env: {} },
  );
  const url = await waitForListening(run);
  assert.match(url, /^http:\/\/0\.0\.0\.0:\d+$/);
  const warning = run
    .readStdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: string; msg: string })
    .find((l) => l.level === 'warn');
  assert.match(warning?.msg ?? '', /^INSECURE: listening on 0\.0\.0\.0 with no API token \(--insecure-no-auth\)/);
  assert.equal(await run.stop(), 0);
});

test(`a token file readable by others (0644) is refused naming the file and chmod 600; at 0600 its \
tokens work`, async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'tokens');
  const fileToken = 'f1le-t0ken-0123456789abcdef';
  await writeFile(file, `# service tokens\nops:write:${fileToken}\n\n`, { mode: 0o644 });
  await chmod(file, 0o644);
  const refused = runServeCli(
    t,
    ['--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'a.sqlite'), '--migrate', '--tokens-file', file],
    { cwd: dir, env: {} },
  );
  assert.equal(await refused.exited, 2);
  assert.match(
    refused.readStderr(),
    new RegExp(
      `^dhash: The API token file ${file} is readable by others \\(mode 0644\\), so the service does not use it\\.$`,
      'm',
    ),
  );
  assert.match(refused.readStderr(), new RegExp(`Run \`chmod 600 ${file}\``));

  await chmod(file, 0o600);
  const { run, url } = await startServe(t, ['--tokens-file', file], {});
  assert.equal((await fetch(`${url}/v1/library`)).status, 401);
  const added = await fetch(`${url}/v1/library`, {
    method: 'POST',
    headers: json(fileToken),
    body: JSON.stringify({ label: 'a', hash: '0000000000000001' }),
  });
  assert.equal(added.status, 201);
  assert.ok(!run.readStdout().includes(fileToken));
});

test('malformed tokens are all reported at once without printing a token', async (t) => {
  const dir = await createTempDir(t);
  const secret = 'x'.repeat(20);
  const env = { DHASH_API_TOKENS: `ok:read:${secret},bad:root:${secret}y,short:read:abc,ok:write:${secret}z` };
  const run = runServeCli(t, ['--port', '0', '--db', join(dir, 'dhash.sqlite'), '--migrate'], { cwd: dir, env });
  assert.equal(await run.exited, 2);
  const stderr = run.readStderr();
  assert.match(stderr, /^dhash: The API tokens in DHASH_API_TOKENS are invalid \(3 problems\)\.$/m);
  assert.match(stderr, /entry 2 \(bad\): the scope must be read, write or admin, got `root`/);
  assert.match(stderr, /entry 3 \(short\): the token must be at least 16 characters without spaces \(got 3\)/);
  assert.match(stderr, /entry 4 \(ok\): the name ok is used twice/);
  assert.ok(!stderr.includes(secret));
});
