// The systemd driver hands the service its database URL and API tokens through shared/service.env (0600, temp +
// rename), never through the unit's text or argv; systemctl is stubbed (no systemd PID 1 here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../../helpers/temp-dir.js';
import { resolveEnvironmentConfig, type ResolvedEnvironment } from '../../../../src/rollout/config/environments.js';
import { environmentSchema } from '../../../../src/rollout/config/environments-schema.js';
import {
  createSystemdDriver,
  getUnitText,
  type CommandRunner,
} from '../../../../src/rollout/target/systemd/systemd-driver.js';
import { getServiceEnvVars } from '../../../../src/rollout/target/systemd/service-environment.js';
import { parseServiceEnv } from '../../../../src/rollout/host/service-env.js';
import { isDhashError } from '../../../../src/lib/errors.js';
import { createManualClock } from '../../../../src/lib/clock.js';
import type { Logger } from '../../../../src/lib/logger.js';

const PASSWORD = 'pw-Unit7x-secret';
const URL = `postgres://dhash:${PASSWORD}@db.internal:5432/dhash`;
const TOKENS = 'ops:admin:tok-admin-123456,ci:read:tok-read-654321';
const SECRETS = [PASSWORD, 'tok-admin-123456', 'tok-read-654321', 's3cr3t-webhook'];

type Database = { engine: 'sqlite' } | { engine: 'postgres'; urlEnv?: string };

function resolveSystemd(root: string, database: Database, processEnv: Record<string, string | undefined>) {
  const config = environmentSchema.parse({
    root: '.dhash/staging',
    service: { host: '0.0.0.0', port: 9100 },
    target: { type: 'systemd', unitName: 'dhash-staging.service', unitDir: join(root, 'units') },
    database,
  });
  return resolveEnvironmentConfig(root, 'staging', config, processEnv);
}

/** A logger that keeps every message and field unredacted, so a test can prove no secret was ever handed to it. */
function createRecordingLogger(lines: string[]): Logger {
  const record = (msg: string, fields?: Record<string, unknown>) => void lines.push(msg + JSON.stringify(fields ?? {}));
  const logger: Logger = { debug: record, info: record, warn: record, error: record, child: () => logger };
  return logger;
}

function createDriverForTest(environment: ResolvedEnvironment, processEnv: Record<string, string | undefined>) {
  const calls: string[] = [];
  const logLines: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    return { code: 0, stdout: args[0] === 'is-active' ? 'active\n' : '', stderr: '' };
  };
  const target = environment.config.target as Parameters<typeof createSystemdDriver>[1];
  const driver = createSystemdDriver(environment, target, {
    clock: createManualClock(),
    logger: createRecordingLogger(logLines),
    processEnv,
    run,
  });
  return { driver, calls, logLines, unitFile: join(target.unitDir, target.unitName) };
}

const serviceEnvFile = (environment: ResolvedEnvironment) => join(environment.sharedDir, 'service.env');

async function readServiceEnvFile(environment: ResolvedEnvironment) {
  const file = serviceEnvFile(environment);
  return { vars: parseServiceEnv(await readFile(file, 'utf8'), file), mode: (await stat(file)).mode & 0o777 };
}

test('a PostgreSQL unit serves without --db, names shared/service.env, holds no secret and passes \
systemd-analyze verify', async (t) => {
  const root = await createTempDir(t);
  const environment = resolveSystemd(root, { engine: 'postgres' }, { DHASH_DATABASE_URL: URL });
  const text = getUnitText(environment, environment.config.target as Parameters<typeof getUnitText>[1]);
  const lines = text.split('\n');
  const exec = lines.find((l) => l.startsWith('ExecStart='));
  assert.equal(
    exec,
    `ExecStart=${process.execPath} ${environment.currentLink}/dist/cli/main.js serve --host 0.0.0.0 \
--port 9100`,
  );
  assert.ok(lines.includes(`EnvironmentFile=-${serviceEnvFile(environment)}`), text);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('Environment=')),
    ['Environment=NODE_ENV=production', 'Environment=DHASH_ENV=staging'],
  );
  for (const secret of [PASSWORD, 'postgres://']) assert.equal(text.includes(secret), false, `${secret} in the unit`);
  const unitFile = join(root, 'dhash-staging.service');
  await writeFile(unitFile, text);
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  const problems = (result.stderr + result.stdout)
    .split('\n')
    .filter(
      (l) =>
        l.includes('dhash-staging.service') &&
        !/(No such file|not found|Failed to set up|Cannot add dependency)/i.test(l),
    );
  assert.deepEqual(problems, []);
  assert.equal(result.status, 0, result.stderr);
});

test('restart writes shared/service.env 0600 with the URL of database.urlEnv as DHASH_DATABASE_URL and the token \
variables, nothing else, before systemctl runs; no secret reaches argv, the unit or the log', async (t) => {
  const root = await createTempDir(t);
  const processEnv = {
    PATH: '/usr/bin',
    STAGING_DB_URL: URL,
    DHASH_DATABASE_URL: 'postgres://other:pw-other-db@elsewhere/other',
    DHASH_API_TOKENS: TOKENS,
    DHASH_ROLLOUT_TOKEN: 'rollout-token-abcdef',
    SLACK_WEBHOOK: 'https://hooks.slack.com/services/T0/B0/s3cr3t-webhook',
  };
  const environment = resolveSystemd(root, { engine: 'postgres', urlEnv: 'STAGING_DB_URL' }, processEnv);
  const { driver, calls, logLines, unitFile } = createDriverForTest(environment, processEnv);

  assert.equal((await driver.restart()).isRunning, true);

  assert.deepEqual(await readServiceEnvFile(environment), {
    vars: { DHASH_DATABASE_URL: URL, DHASH_API_TOKENS: TOKENS },
    mode: 0o600,
  });
  assert.deepEqual(calls, [
    'systemctl daemon-reload',
    'systemctl restart dhash-staging.service',
    'systemctl is-active dhash-staging.service',
  ]);
  const unitText = await readFile(unitFile, 'utf8');
  const everything = [unitText, ...calls, ...logLines].join('\n');
  for (const secret of [...SECRETS, 'pw-other-db', 'rollout-token-abcdef'])
    assert.equal(everything.includes(secret), false, `${secret} leaked`);
  assert.deepEqual(
    logLines.filter((l) => l.includes('service.env')),
    [
      `wrote ${serviceEnvFile(environment)} (DHASH_DATABASE_URL, DHASH_API_TOKENS)` +
        JSON.stringify({ file: serviceEnvFile(environment), names: ['DHASH_DATABASE_URL', 'DHASH_API_TOKENS'] }),
    ],
  );
  assert.deepEqual(
    (await readdir(environment.sharedDir)).filter((f) => f !== 'service.env'),
    [],
    'no temp file is left beside it',
  );
});

test('a token variable not set in this shell keeps the file value; set to the empty string it is removed; a new URL \
replaces the old', async (t) => {
  const root = await createTempDir(t);
  const first = { DHASH_DATABASE_URL: URL, DHASH_API_TOKENS: TOKENS, DHASH_PROTECT_PROBES: '1' };
  const environment = resolveSystemd(root, { engine: 'postgres' }, first);
  await createDriverForTest(environment, first).driver.start();

  const secondUrl = URL.replace('/dhash', '/dhash2');
  const second = { DHASH_DATABASE_URL: secondUrl };
  const again = createDriverForTest(resolveSystemd(root, { engine: 'postgres' }, second), second);
  await again.driver.restart();
  assert.deepEqual((await readServiceEnvFile(environment)).vars, {
    DHASH_DATABASE_URL: secondUrl,
    DHASH_API_TOKENS: TOKENS,
    DHASH_PROTECT_PROBES: '1',
  });
  assert.deepEqual(again.calls, [
    'systemctl restart dhash-staging.service',
    'systemctl is-active dhash-staging.service',
  ]);

  const third = { DHASH_DATABASE_URL: secondUrl, DHASH_API_TOKENS: '' };
  await createDriverForTest(resolveSystemd(root, { engine: 'postgres' }, third), third).driver.restart();
  assert.deepEqual((await readServiceEnvFile(environment)).vars, {
    DHASH_DATABASE_URL: secondUrl,
    DHASH_PROTECT_PROBES: '1',
  });
});

test('a SQLite unit gets the tokens but never a URL; an operator-added line is kept', async (t) => {
  const root = await createTempDir(t);
  const environment = resolveSystemd(root, { engine: 'sqlite' }, {});
  assert.deepEqual(
    getServiceEnvVars(
      environment,
      { DHASH_DATABASE_URL: URL, DHASH_API_TOKENS_FILE: '/etc/dhash/tokens' },
      {
        DHASH_MAX_IN_FLIGHT: '8',
      },
    ),
    { DHASH_API_TOKENS_FILE: '/etc/dhash/tokens', DHASH_MAX_IN_FLIGHT: '8' },
  );
  const processEnv = { DHASH_API_TOKENS: TOKENS };
  const { driver } = createDriverForTest(environment, processEnv);
  await driver.start();
  assert.deepEqual(await readServiceEnvFile(environment), { vars: { DHASH_API_TOKENS: TOKENS }, mode: 0o600 });
  assert.ok(getUnitText(environment, environment.config.target as never).includes(` --db ${environment.databaseFile}`));
});

test(
  'refusals before systemctl or the unit is touched: no URL anywhere (EDATABASEURLMISSING), a URL left in a ' +
    "SQLite environment's file (ESERVICEENVSQLITEURL), a file others can read (ESERVICEENVMODE); check() reports each",
  async (t) => {
    const root = await createTempDir(t);
    await mkdir(join(root, 'units'));
    const noUrl = resolveSystemd(root, { engine: 'postgres', urlEnv: 'STAGING_DB_URL' }, {});
    const missing = createDriverForTest(noUrl, {});
    await assert.rejects(
      missing.driver.restart(),
      (e) => isDhashError(e, 'EDATABASEURLMISSING') && e.exitCode === 2 && e.message.includes('STAGING_DB_URL'),
    );
    const check = await missing.driver.check();
    assert.equal(check.ok, false);
    assert.match(check.detail, /keeps its data in PostgreSQL, but STAGING_DB_URL is not set/);
    assert.deepEqual(missing.calls, ['systemctl --version']);

    const sqlite = resolveSystemd(root, { engine: 'sqlite' }, {});
    await mkdir(sqlite.sharedDir, { recursive: true });
    await writeFile(serviceEnvFile(sqlite), `DHASH_DATABASE_URL=${URL}\n`, { mode: 0o600 });
    const leftover = createDriverForTest(sqlite, {});
    await assert.rejects(
      leftover.driver.start(),
      (e) =>
        isDhashError(e, 'ESERVICEENVSQLITEURL') &&
        e.exitCode === 2 &&
        e.message ===
          `${serviceEnvFile(sqlite)} sets DHASH_DATABASE_URL, ` +
            'but the environment `staging` keeps its data in SQLite.' &&
        !e.details.includes(PASSWORD),
    );
    assert.equal((await leftover.driver.check()).ok, false);

    await chmod(serviceEnvFile(sqlite), 0o644);
    const open = createDriverForTest(resolveSystemd(root, { engine: 'postgres' }, { DHASH_DATABASE_URL: URL }), {});
    await assert.rejects(open.driver.restart(), (e) => isDhashError(e, 'ESERVICEENVMODE') && e.exitCode === 3);
    assert.deepEqual(
      [...missing.calls, ...leftover.calls, ...open.calls],
      ['systemctl --version', 'systemctl --version'],
    );
    assert.equal(await readFile(serviceEnvFile(sqlite), 'utf8'), `DHASH_DATABASE_URL=${URL}\n`, 'left as it was');
    await assert.rejects(stat(join(root, 'units', 'dhash-staging.service')), { code: 'ENOENT' });
  },
);

test('check() names the variables the service will get, never their values', async (t) => {
  const root = await createTempDir(t);
  await mkdir(join(root, 'units'));
  const processEnv = { DHASH_DATABASE_URL: URL, DHASH_API_TOKENS: TOKENS };
  const environment = resolveSystemd(root, { engine: 'postgres' }, processEnv);
  const { driver } = createDriverForTest(environment, processEnv);
  assert.deepEqual(await driver.check(), {
    ok: true,
    detail:
      `systemd driver usable; unit ${join(root, 'units', 'dhash-staging.service')}, ` +
      `${serviceEnvFile(environment)} (DHASH_DATABASE_URL, DHASH_API_TOKENS)`,
  });
});
