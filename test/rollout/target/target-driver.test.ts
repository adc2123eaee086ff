// The service command line and environment every driver uses, per database engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { resolveEnvironmentConfig } from '../../../src/rollout/config/environments.js';
import { environmentSchema } from '../../../src/rollout/config/environments-schema.js';
import { getServeArgs, getServiceProcessEnv } from '../../../src/rollout/target/target-driver.js';

const URL_A = 'postgres://dhash:pw-a@10.0.0.5:5432/dhash';

function resolve(root: string, database: unknown, processEnv: Record<string, string>) {
  const config = environmentSchema.parse({ root: '.dhash/x', service: { port: 9000 }, database });
  return resolveEnvironmentConfig(root, 'x', config, processEnv);
}

test('a SQLite environment serves --db and never inherits a DHASH_DATABASE_URL from the shell', async (t) => {
  const root = await createTempDir(t);
  const environment = resolve(root, { engine: 'sqlite' }, {});
  assert.deepEqual(getServeArgs(environment).slice(1), [
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '9000',
    '--db',
    join(root, '.dhash/x/shared/dhash.sqlite'),
  ]);
  assert.deepEqual(getServiceProcessEnv(environment, { PATH: '/bin', DHASH_DATABASE_URL: URL_A }), {
    PATH: '/bin',
    DHASH_ENV: 'x',
  });
});

test('a PostgreSQL environment serves without --db, names shared/service.json, and passes its URL as \
DHASH_DATABASE_URL whatever its urlEnv', async (t) => {
  const root = await createTempDir(t);
  const processEnv = { PATH: '/bin', DHASH_DATABASE_URL: 'postgres://other@h/db', PROD_DB_URL: URL_A };
  const environment = resolve(root, { engine: 'postgres', urlEnv: 'PROD_DB_URL' }, processEnv);
  assert.deepEqual(getServeArgs(environment).slice(1), ['serve', '--host', '127.0.0.1', '--port', '9000']);
  await mkdir(environment.sharedDir, { recursive: true });
  await writeFile(join(environment.sharedDir, 'service.json'), '{}');
  assert.deepEqual(getServeArgs(environment).slice(-2), ['--config', join(environment.sharedDir, 'service.json')]);
  assert.deepEqual(getServiceProcessEnv(environment, processEnv), {
    ...processEnv,
    DHASH_ENV: 'x',
    DHASH_DATABASE_URL: URL_A,
  });
});
