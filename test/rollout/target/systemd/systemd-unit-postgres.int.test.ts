// The systemd driver's unit and shared/service.env are all a service gets: run the way systemd runs a unit (its
// ExecStart in its WorkingDirectory, with Environment= and EnvironmentFile= and nothing of the deploying shell), the
// built service serves from a real PostgreSQL, with its API tokens. systemd is not PID 1 here: systemctl is stubbed
// by a runner that does exactly that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../../helpers/temp-dir.js';
import { getFreePort } from '../../../helpers/free-port.js';
import { REPO_ROOT, waitFor } from '../../../helpers/processes.js';
import { startPostgres } from '../../../helpers/postgres-server.js';
import { listLabels, PG_TEST_PASSWORD, withClient } from '../../../helpers/postgres-environment.js';
import { resolveEnvironment } from '../../../../src/rollout/config/environments.js';
import { createSystemdDriver, type CommandRunner } from '../../../../src/rollout/target/systemd/systemd-driver.js';
import { parseServiceEnv } from '../../../../src/rollout/host/service-env.js';
import { applyPendingPostgresMigrations } from '../../../../src/service/store/postgres/index.js';
import { createManualClock } from '../../../../src/lib/clock.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';

const ADMIN_TOKEN = 'tok-admin-unit-778899';

/** The unit's directives (one value per key, Environment= collected), as systemd reads them. */
function parseUnit(text: string): { directives: Map<string, string>; environment: Record<string, string> } {
  const directives = new Map<string, string>();
  const environment: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!match) continue;
    if (match[1] === 'Environment') {
      const [name, ...rest] = match[2].split('=');
      environment[name] = rest.join('=');
    } else directives.set(match[1], match[2]);
  }
  return { directives, environment };
}

/** Stands in for systemctl: `restart` runs the unit file's service as systemd would; `is-active` reports it. */
function createFakeSystemd(unitFile: string): { run: CommandRunner; stop: () => Promise<void> } {
  let child: ChildProcess | undefined;
  const isAlive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!isAlive()) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    await exited;
  };
  const run: CommandRunner = async (_file, args) => {
    if (args[0] === 'is-active') return { code: 0, stdout: isAlive() ? 'active\n' : 'inactive\n', stderr: '' };
    if (args[0] === 'restart' || args[0] === 'start') {
      await stop();
      const { directives, environment } = parseUnit(await readFile(unitFile, 'utf8'));
      const envFile = directives.get('EnvironmentFile')!.replace(/^-/, '');
      const fileVars = existsSync(envFile) ? parseServiceEnv(await readFile(envFile, 'utf8'), envFile) : {};
      const [command, ...argv] = directives.get('ExecStart')!.split(' ');
      const log = openSync(directives.get('StandardOutput')!.replace(/^append:/, ''), 'a');
      child = spawn(command, argv, {
        cwd: directives.get('WorkingDirectory'),
        // systemd's own PATH, the unit's variables and its EnvironmentFile: nothing of this test's environment.
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...environment, ...fileVars },
        stdio: ['ignore', log, log],
      });
      closeSync(log);
    }
    return { code: 0, stdout: '', stderr: '' };
  };
  return { run, stop };
}

test('the unit and shared/service.env alone let the built service serve from PostgreSQL with its tokens; the \
password is in no file but service.env', async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'dist/cli/main.js')), 'run `npm run build` before this test');
  const root = await createTempDir(t, 'dhash-systemd-pg-');
  const unitDir = join(root, 'units');
  const fake = createFakeSystemd(join(unitDir, 'dhash-staging.service'));
  t.after(fake.stop); // registered first: the service stops before the server does
  const server = await startPostgres({ t, password: PG_TEST_PASSWORD });
  await withClient(server.url, (c) => applyPendingPostgresMigrations(c));
  const port = await getFreePort();
  const environments = {
    environments: {
      staging: {
        root: '.dhash/staging',
        service: { host: '127.0.0.1', port },
        target: { type: 'systemd', unitName: 'dhash-staging.service', unitDir },
        database: { engine: 'postgres', urlEnv: 'STAGING_DB_URL' },
      },
    },
  };
  await writeFile(join(root, 'environments.json'), JSON.stringify(environments));
  const processEnv = { STAGING_DB_URL: server.url, DHASH_API_TOKENS: `ops:admin:${ADMIN_TOKEN}` };
  const environment = await resolveEnvironment(root, 'staging', processEnv);
  const release = join(environment.releasesDir, 'r1');
  await mkdir(release, { recursive: true });
  await mkdir(unitDir);
  await symlink(join(REPO_ROOT, 'dist'), join(release, 'dist'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(release, 'node_modules'));
  await copyFile(join(REPO_ROOT, 'package.json'), join(release, 'package.json'));
  await symlink('releases/r1', environment.currentLink);
  await mkdir(environment.logsDir, { recursive: true });

  const driver = createSystemdDriver(environment, environment.config.target as never, {
    clock: createManualClock(),
    logger: createSilentLogger(),
    processEnv,
    run: fake.run,
  });
  assert.equal((await driver.restart()).isRunning, true);

  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor('the unit service to answer /health', async () => (await fetch(`${baseUrl}/health`)).ok, 30_000);
  const health = (await (await fetch(`${baseUrl}/health`)).json()) as { engine: string; status: string };
  assert.deepEqual([health.status, health.engine], ['ok', 'postgres']);
  const unauthorized = await fetch(`${baseUrl}/v1/library`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'no-token', hash: '0123456789abcdef' }),
  });
  assert.equal(unauthorized.status, 401, 'the service got its tokens from service.env');
  const added = await fetch(`${baseUrl}/v1/library`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ label: 'via-systemd-unit', hash: '0123456789abcdef' }),
  });
  assert.ok(added.status < 300, `${added.status} ${await added.text()}`);
  assert.deepEqual(await listLabels(server.url), ['via-systemd-unit']);

  const unitText = await readFile(join(unitDir, 'dhash-staging.service'), 'utf8');
  const serviceLog = await readFile(join(environment.logsDir, 'service.log'), 'utf8');
  for (const [what, text] of Object.entries({ unit: unitText, 'service log': serviceLog })) {
    assert.equal(text.includes(PG_TEST_PASSWORD), false, `the password is in the ${what}`);
    assert.equal(text.includes(ADMIN_TOKEN), false, `the token is in the ${what}`);
  }
  assert.match(await readFile(join(environment.sharedDir, 'service.env'), 'utf8'), new RegExp(PG_TEST_PASSWORD));
});
