import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { runCliForTest } from '../../helpers/cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/service/store/index.js';

test('serve refuses a database whose schema is behind and says what to run', async (t) => {
  const dir = await createTempDir(t);
  const dbFile = join(dir, 'fresh.sqlite');
  const result = await runCliForTest(['serve', '--port', '0', '--db', dbFile], { cwd: dir });
  assert.equal(result.exitCode, 3);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    new RegExp(
      `has schema version 0, behind this release's ${LATEST_SCHEMA_VERSION} \\(${LATEST_SCHEMA_VERSION} ` +
        `pending migrations\\)`,
    ),
  );
  assert.match(
    result.stderr,
    new RegExp(`Run \`npx dhash migrate --db ${dbFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``),
  );
  assert.match(result.stderr, /npx dhash serve --migrate/);
});

test('serve rejects a port that is not a port, naming the option, before touching the database', async (t) => {
  const dir = await createTempDir(t);
  const result = await runCliForTest(['serve', '--port', '99999', '--db', join(dir, 'x.sqlite')], { cwd: dir });
  assert.equal(result.exitCode, 2);
  assert.match(
    result.stderr,
    /Expected the `--port` option to be a TCP port from 0 to 65535, got `99999` \(string\)\./,
  );
  assert.equal(existsSync(join(dir, 'x.sqlite')), false);
  const fromEnv = await runCliForTest(['serve', '--db', join(dir, 'x.sqlite')], {
    cwd: dir,
    processEnv: { DHASH_PORT: 'eighty' },
  });
  assert.equal(fromEnv.exitCode, 2);
  assert.match(fromEnv.stderr, /Expected the `DHASH_PORT` option to be a TCP port/);
});

test(`serve --migrate creates the default database under the project root, serves, and stops when the \
signal aborts`, async (t) => {
  const dir = await createTempDir(t);
  const controller = new AbortController();
  controller.abort(new Error('stop at once'));
  const result = await runCliForTest(['serve', '--port', '0', '--migrate'], { cwd: dir, signal: controller.signal });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(existsSync(join(dir, '.dhash', 'dhash.sqlite')));
  const messages = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(messages.some((m) => /^dhash service listening on http:\/\/127\.0\.0\.1:\d+$/.test(m)));
  assert.equal(messages.at(-1), 'service stopped');
});
