// The deploy lock: exclusive, names its holder and the way to release it, clears a dead process's lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../src/rollout/config/environments.js';
import { acquireEnvironmentLock, getLockFile } from '../../../src/rollout/state/lock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { createJsonLogger } from '../../../src/lib/logger.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { PassThrough } from 'node:stream';

async function setup(t: Parameters<typeof createTempDir>[0]) {
  const root = await createTempDir(t);
  return resolveEnvironmentConfig(root, 'local', EMBEDDED_LOCAL, {});
}

test('takes the lock with pid, host, start time and purpose, and releases it', async (t) => {
  const environment = await setup(t);
  const clock = createManualClock();
  const lock = await acquireEnvironmentLock(environment, { purpose: 'deploy of R1', clock });
  const info = JSON.parse(await readFile(getLockFile(environment), 'utf8'));
  assert.deepEqual(info, {
    pid: process.pid,
    host: hostname(),
    startedAt: '2026-11-28T00:00:00.000Z',
    purpose: 'deploy of R1',
  });
  await lock.release();
  assert.equal(existsSync(getLockFile(environment)), false);
  await lock.release();
});

test('a held lock refuses with ELOCKED (exit 3) naming the holder and how to release it', async (t) => {
  const environment = await setup(t);
  const clock = createManualClock();
  const lock = await acquireEnvironmentLock(environment, { purpose: 'deploy of R1', clock });
  await assert.rejects(acquireEnvironmentLock(environment, { purpose: 'rollback', clock }), (error) => {
    assert.ok(isDhashError(error, 'ELOCKED'));
    assert.equal(error.exitCode, 3);
    assert.equal(
      error.message,
      `Another deploy or rollback of \`local\` is in progress (deploy of R1 by pid ${process.pid} on ` +
        `${hostname()}, started 2026-11-28T00:00:00.000Z).`,
    );
    assert.match(
      error.details,
      new RegExp(`remove ${getLockFile(environment).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    return true;
  });
  await lock.release();
});

test('a lock left by a process that is gone is reported and cleared', async (t) => {
  const environment = await setup(t);
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  await mkdir(environment.stateDir, { recursive: true });
  await writeFile(
    getLockFile(environment),
    JSON.stringify({ pid: deadPid, host: hostname(), startedAt: '2026-11-27T23:00:00.000Z', purpose: 'deploy of R0' }),
  );
  const out = new PassThrough();
  let logged = '';
  out.on('data', (c) => (logged += c));
  const clock = createManualClock();
  const logger = createJsonLogger({ clock, redact: createRedactor({}), streams: [out] });
  const lock = await acquireEnvironmentLock(environment, { purpose: 'deploy of R1', clock, logger });
  assert.equal(JSON.parse(await readFile(getLockFile(environment), 'utf8')).purpose, 'deploy of R1');
  assert.match(logged, new RegExp(`cleared a stale deploy lock: deploy of R0 by pid ${deadPid}`));
  await lock.release();
});

test('a lock from another host is never guessed stale', async (t) => {
  const environment = await setup(t);
  await mkdir(environment.stateDir, { recursive: true });
  await writeFile(
    getLockFile(environment),
    JSON.stringify({ pid: 999999, host: 'elsewhere', startedAt: '2026-11-27T23:00:00.000Z', purpose: 'deploy of R0' }),
  );
  await assert.rejects(
    acquireEnvironmentLock(environment, { purpose: 'deploy', clock: createManualClock() }),
    (error) => isDhashError(error, 'ELOCKED'),
  );
});
