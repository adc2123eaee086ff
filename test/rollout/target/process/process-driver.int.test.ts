// The process target with real detached processes: pidfile, log,
// idempotent start, SIGTERM then SIGKILL, outliving its starter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../../../helpers/temp-dir.js';
import { waitFor } from '../../../helpers/processes.js';
import { createSystemClock } from '../../../../src/lib/clock.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../../src/rollout/config/environments.js';
import {
  createProcessDriver,
  getPidFile,
  getServiceLogFile,
  isOurServiceProcess,
} from '../../../../src/rollout/target/process/process-driver.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';

/** A stand-in service: prints its argv, then idles; with `stubborn` it ignores SIGTERM. */
async function createFakeRoot(t: Parameters<typeof createTempDir>[0], stubborn = false) {
  const root = await createTempDir(t);
  const environment = resolveEnvironmentConfig(root, 'local', EMBEDDED_LOCAL, {});
  const release = join(environment.releasesDir, '20261128T000000000Z-0.0.1-fake');
  await mkdir(join(release, 'dist', 'cli'), { recursive: true });
  const ignoreSigterm = stubborn ? "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));\n" : '';
  await writeFile(
    join(release, 'dist', 'cli', 'main.js'),
    `console.log('serving', process.argv.slice(2).join(' '), 'cwd', process.cwd());\n` +
      `${ignoreSigterm}setInterval(() => {}, 1000);\n`,
  );
  await symlink('releases/20261128T000000000Z-0.0.1-fake', environment.currentLink);
  const kill = async () => {
    if (!existsSync(getPidFile(environment))) return;
    const { pid } = JSON.parse(await readFile(getPidFile(environment), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  };
  t.after(kill);
  return { env: environment, release };
}

test('starts a detached service with pidfile and log, is idempotent, and stops it with SIGTERM', async (t) => {
  const { env: environment, release } = await createFakeRoot(t);
  const driver = createProcessDriver(
    environment,
    { type: 'process', stopTimeoutMs: 5000 },
    { clock: createSystemClock(), logger: createSilentLogger() },
  );
  assert.equal((await driver.status()).isRunning, false);
  const started = await driver.start();
  assert.equal(started.isRunning, true);
  const pidFile = JSON.parse(await readFile(getPidFile(environment), 'utf8'));
  assert.equal(pidFile.pid, started.pid);
  assert.equal(pidFile.releaseId, '20261128T000000000Z-0.0.1-fake');
  assert.equal(pidFile.releaseDir, release);
  assert.equal((await driver.start()).pid, started.pid);
  await waitFor('the service log line', async () =>
    (await readFile(getServiceLogFile(environment), 'utf8').catch(() => '')).includes('serving'),
  );
  const log = await readFile(getServiceLogFile(environment), 'utf8');
  assert.match(
    log,
    new RegExp(`serving serve --host 127.0.0.1 --port 8787 --db ${environment.databaseFile} cwd ${release}`),
  );
  await driver.stop();
  assert.equal(isOurServiceProcess(started.pid!), false);
  assert.equal(existsSync(getPidFile(environment)), false);
  assert.equal((await driver.status()).isRunning, false);
  await driver.stop();
});

test('escalates to SIGKILL when the service ignores SIGTERM for stopTimeoutMs', async (t) => {
  const { env: environment } = await createFakeRoot(t, true);
  const driver = createProcessDriver(
    environment,
    { type: 'process', stopTimeoutMs: 300 },
    { clock: createSystemClock(), logger: createSilentLogger() },
  );
  const started = await driver.start();
  await waitFor('the service to install its handler', async () =>
    (await readFile(getServiceLogFile(environment), 'utf8').catch(() => '')).includes('serving'),
  );
  const t0 = Date.now();
  await driver.stop();
  assert.equal(isOurServiceProcess(started.pid!), false);
  assert.ok(Date.now() - t0 >= 300, 'waited for the SIGTERM grace period');
  assert.match(await readFile(getServiceLogFile(environment), 'utf8'), /ignoring SIGTERM/);
});

test('the service outlives the process that started it', async (t) => {
  const { env: environment } = await createFakeRoot(t);
  const srcModule = (path: string) => JSON.stringify(new URL(`../../../../src/${path}`, import.meta.url).href);
  const script = `
    import { createProcessDriver } from ${srcModule('rollout/target/process/process-driver.ts')};
    import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from ${srcModule('rollout/config/environments.ts')};
    import { createSystemClock } from ${srcModule('lib/clock.ts')};
    import { createSilentLogger } from ${srcModule('lib/logger.ts')};
    const env = resolveEnvironmentConfig(${JSON.stringify(environment.paths.root)}, 'local', EMBEDDED_LOCAL, {});
    const s = await createProcessDriver(env, { type: 'process', stopTimeoutMs: 1000 }, {
      clock: createSystemClock(),
      logger: createSilentLogger(),
    }).start();
    console.log(s.pid);`;
  const starter = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: process.cwd(),
  });
  assert.equal(starter.status, 0, starter.stderr);
  const pid = Number(starter.stdout.trim());
  assert.equal(isOurServiceProcess(pid), true);
  const driver = createProcessDriver(
    environment,
    { type: 'process', stopTimeoutMs: 5000 },
    { clock: createSystemClock(), logger: createSilentLogger() },
  );
  assert.equal((await driver.status()).pid, pid);
  await driver.stop();
  assert.equal(isOurServiceProcess(pid), false);
});

test('a pidfile naming a live process that is not a dhash service is not ours', async (t) => {
  const { env: environment } = await createFakeRoot(t);
  await mkdir(environment.stateDir, { recursive: true });
  await writeFile(
    getPidFile(environment),
    JSON.stringify({ pid: process.pid, startedAt: 'x', releaseId: 'R', releaseDir: '/' }),
  );
  const driver = createProcessDriver(
    environment,
    { type: 'process', stopTimeoutMs: 100 },
    { clock: createSystemClock(), logger: createSilentLogger() },
  );
  const status = await driver.status();
  assert.equal(status.isRunning, false);
  assert.equal(status.detail, `not running (pid ${process.pid} from the pidfile is gone)`);
});
