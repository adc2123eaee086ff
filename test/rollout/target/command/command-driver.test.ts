// The command target: operator shell commands with the environment's paths in variables, bounded by a timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../../helpers/temp-dir.js';
import { createSystemClock } from '../../../../src/lib/clock.js';
import { isDhashError } from '../../../../src/lib/errors.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../../src/rollout/config/environments.js';
import { createCommandDriver } from '../../../../src/rollout/target/command/command-driver.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';

test('runs start/stop/status with DHASH_* variables; status is the exit code', async (t) => {
  const dir = await createTempDir(t);
  const environment = resolveEnvironmentConfig(dir, 'local', EMBEDDED_LOCAL, {});
  const flag = join(dir, 'running');
  const driver = createCommandDriver(
    environment,
    {
      type: 'command',
      start: `echo "$DHASH_ENV $DHASH_PORT $DHASH_CURRENT" > ${flag}`,
      stop: `rm -f ${flag}`,
      status: `test -f ${flag}`,
      timeoutMs: 5000,
    },
    { clock: createSystemClock(), logger: createSilentLogger(), processEnv: { PATH: process.env.PATH } },
  );
  assert.equal((await driver.status()).isRunning, false);
  assert.equal((await driver.restart()).isRunning, true);
  assert.equal(await readFile(flag, 'utf8'), `local 8787 ${environment.currentLink}\n`);
  await driver.stop();
  assert.equal((await driver.status()).isRunning, false);
});

test('a failing or hanging command throws ETARGETFAILED naming the command', async (t) => {
  const environment = resolveEnvironmentConfig(await createTempDir(t), 'local', EMBEDDED_LOCAL, {});
  const driver = createCommandDriver(
    environment,
    { type: 'command', start: 'echo boom >&2; exit 7', stop: 'sleep 30', status: 'true', timeoutMs: 300 },
    { clock: createSystemClock(), logger: createSilentLogger(), processEnv: { PATH: process.env.PATH } },
  );
  await assert.rejects(driver.start(), (error) => {
    assert.ok(isDhashError(error, 'ETARGETFAILED'));
    assert.match(error.details, /`echo boom >&2; exit 7` exited 7: boom/);
    return true;
  });
  const t0 = Date.now();
  await assert.rejects(
    driver.stop(),
    (error) => isDhashError(error, 'ETARGETFAILED') && /`sleep 30` timed out after 300 ms/.test(error.details),
  );
  assert.ok(Date.now() - t0 < 10_000);
});
