// Two services on one database (one PostgreSQL database, or one SQLite file): what one host adds the other matches
// within 1 s, what one deletes leaves the other's index within 1 s. And `dhash serve` reading DHASH_DATABASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFixtureImage } from '../helpers/images.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { getFreePort } from '../helpers/free-port.js';
import { runCliForTest } from '../helpers/cli.js';
import { runServeCli, waitForListening } from '../helpers/serve-cli.js';
import { POSTGRES_TEST_PASSWORD } from '../helpers/postgres-server.js';
import { hashImage } from '../../src/service/hash/hash-image.js';
import { INDEX_SYNC_BOUND_MS } from '../../src/service/library/index-sync.js';
import { STORE_ENGINES, startEngineService, useStoreEngines } from './store-engines.js';

const engines = useStoreEngines();

interface Health {
  status: string;
  engine: string;
  sync: { seq: number; lagMs: number };
}

/** Calls `probe` until it returns true; returns the milliseconds that took, failing past `deadlineMs`. */
async function measureUntil(what: string, probe: () => Promise<boolean>, deadlineMs = 5000): Promise<number> {
  const startedMs = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - startedMs;
    if (Date.now() - startedMs > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const postImage = (url: string, body: Buffer) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'image/png' } });

for (const engine of STORE_ENGINES) {
  test(`${engine}: an entry added on host A is matched on host B within 1 s; a delete on B leaves A's index \
within 1 s`, async (t) => {
    const location = await engines.createLocation(t, engine);
    const a = await startEngineService(t, location);
    const b = await startEngineService(t, location, { migrate: false });
    const photo = await createFixtureImage({ kind: 'photo', width: 120, height: 90, seed: 31, format: 'png' });
    const { hash } = await hashImage(photo);
    const matchOn = async (url: string) =>
      (await (await postImage(`${url}/v1/match`, photo)).json()) as { decision: string; matches: { id: number }[] };
    assert.equal((await matchOn(b.url)).decision, 'none');

    const added = await fetch(`${a.url}/v1/library`, {
      method: 'POST',
      body: JSON.stringify({ label: 'added on A', hash }),
      headers: { 'content-type': 'application/json' },
    });
    const addedMs = Date.now();
    assert.equal(added.status, 201);
    const entry = (await added.json()) as { id: number };
    await measureUntil('B to match the entry', async () => (await matchOn(b.url)).decision === 'match');
    const addLatencyMs = Date.now() - addedMs;
    assert.ok(addLatencyMs <= INDEX_SYNC_BOUND_MS, `B matched the entry after ${addLatencyMs} ms`);
    assert.deepEqual(
      (await matchOn(b.url)).matches.map((m) => m.id),
      [entry.id],
    );

    const deleted = await fetch(`${b.url}/v1/library/${entry.id}`, { method: 'DELETE' });
    const deletedMs = Date.now();
    assert.equal(deleted.status, 200);
    const headSeq = await b.store.getChangeLogSeq();
    // A's answer is checked against the table too, so it says `none` at once; its index must let go as well.
    await measureUntil('A to stop matching the entry', async () => (await matchOn(a.url)).decision === 'none');
    await measureUntil('A to apply the delete', async () => {
      const health = (await (await fetch(`${a.url}/health`)).json()) as Health;
      return health.sync.seq >= headSeq;
    });
    const deleteLatencyMs = Date.now() - deletedMs;
    assert.ok(deleteLatencyMs <= INDEX_SYNC_BOUND_MS, `A applied the delete after ${deleteLatencyMs} ms`);
    const health = (await (await fetch(`${a.url}/health`)).json()) as Health;
    assert.deepEqual([health.status, health.engine, health.sync.seq], ['ok', engine, headSeq]);
    t.diagnostic(`add matched on B after ${addLatencyMs} ms, delete applied on A after ${deleteLatencyMs} ms`);
  });
}

test(`dhash serve with DHASH_DATABASE_URL serves PostgreSQL and logs engine, host and database, never the \
password`, async (t) => {
  const dir = await createTempDir(t);
  const postgres = await engines.getPostgres();
  const url = await postgres.createDatabase('serve_cli');
  const run = runServeCli(t, ['--port', '0', '--migrate'], { cwd: dir, env: { DHASH_DATABASE_URL: url } });
  const serviceUrl = await waitForListening(run);
  const health = (await (await fetch(`${serviceUrl}/health`)).json()) as Health;
  assert.deepEqual([health.status, health.engine], ['ok', 'postgres']);
  assert.equal(await run.stop(), 0);
  const listening = run
    .readStdout()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => String(line.msg).startsWith('dhash service listening on'));
  assert.equal(listening?.engine, 'postgres');
  assert.equal(listening?.database, `postgres://dhash@127.0.0.1:${postgres.port}/serve_cli`);
  assert.ok(!`${run.readStdout()}${run.readStderr()}`.includes(POSTGRES_TEST_PASSWORD), 'the password is never shown');
});

test('dhash serve refuses --db beside DHASH_DATABASE_URL, a malformed URL and an unreachable server, never showing \
the URL', async (t) => {
  const dir = await createTempDir(t);
  const both = await runCliForTest(['serve', '--port', '0', '--db', 'x.sqlite'], {
    cwd: dir,
    processEnv: { DHASH_DATABASE_URL: 'postgres://dhash:hunter22@127.0.0.1:5432/dhash' },
  });
  assert.equal(both.exitCode, 2);
  assert.match(both.stderr, /Expected the `--db` option to be absent when DHASH_DATABASE_URL is set/);

  const malformed = await runCliForTest(['serve', '--port', '0'], {
    cwd: dir,
    processEnv: { DHASH_DATABASE_URL: 'mysql://dhash:hunter22@db/dhash' },
  });
  assert.equal(malformed.exitCode, 2);
  assert.match(
    malformed.stderr,
    new RegExp(
      'Expected the `DHASH_DATABASE_URL` option to be a postgres:// URL \\(user, password, host, port, database\\), ' +
        'got `\\(value not shown: it may hold a password\\)`',
    ),
  );

  const port = await getFreePort();
  const unreachable = await runCliForTest(['serve', '--port', '0'], {
    cwd: dir,
    processEnv: { DHASH_DATABASE_URL: `postgres://dhash:hunter22@127.0.0.1:${port}/dhash` },
  });
  assert.equal(unreachable.exitCode, 1);
  assert.match(
    unreachable.stderr,
    new RegExp(
      `The PostgreSQL database postgres://dhash@127\\.0\\.0\\.1:${port}/dhash cannot be reached: .*ECONNREFUSED`,
    ),
  );
  for (const result of [both, malformed, unreachable]) {
    assert.ok(!`${result.stdout}${result.stderr}`.includes('hunter22'), 'the password is never shown');
  }
});
