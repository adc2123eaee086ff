// The systemd driver's unit file: rendered from the environment and accepted by `systemd-analyze verify`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../../helpers/temp-dir.js';
import { resolveEnvironmentConfig, EMBEDDED_LOCAL } from '../../../../src/rollout/config/environments.js';
import {
  getUnitText,
  createSystemdDriver,
  type CommandRunner,
} from '../../../../src/rollout/target/systemd/systemd-driver.js';
import { quoteSystemdWord } from '../../../../src/rollout/target/systemd/render-unit.js';
import { createManualClock } from '../../../../src/lib/clock.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';

const target = { type: 'systemd' as const, unitName: 'dhash-test.service', unitDir: '/tmp', user: undefined };

test('renders ExecStart as node <root>/current/dist/cli/main.js serve with host, port and database', async (t) => {
  const environment = resolveEnvironmentConfig(await createTempDir(t), 'local', EMBEDDED_LOCAL, {});
  const text = getUnitText(environment, target);
  assert.ok(
    text.includes(
      `ExecStart=${process.execPath} ${environment.currentLink}/dist/cli/main.js serve --host 127.0.0.1 ` +
        `--port 8787 --db ${environment.databaseFile}\n`,
    ),
    text,
  );
  assert.ok(text.includes(`WorkingDirectory=${environment.currentLink}\n`));
  assert.ok(text.includes(`StandardOutput=append:${environment.logsDir}/service.log\n`));
});

test('the generated unit passes systemd-analyze verify', async (t) => {
  const dir = await createTempDir(t);
  const environment = resolveEnvironmentConfig(dir, 'local', EMBEDDED_LOCAL, {});
  const unitFile = join(dir, 'dhash-test.service');
  await writeFile(unitFile, getUnitText(environment, target));
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  // verify may warn about the missing WorkingDirectory target at runtime; it must not report unit syntax errors.
  const problems = (result.stderr + result.stdout)
    .split('\n')
    .filter(
      (l) =>
        l.includes('dhash-test.service') && !/(No such file|not found|Failed to set up|Cannot add dependency)/i.test(l),
    );
  assert.deepEqual(problems, []);
  assert.equal(result.status, 0, result.stderr);
});

test('quotes words with spaces and escapes $ and %', () => {
  assert.equal(quoteSystemdWord('/srv/dhash/current'), '/srv/dhash/current');
  assert.equal(quoteSystemdWord('/srv/my dhash/$x%'), '"/srv/my dhash/$$x%%"');
});

test('drives systemctl: restart installs the unit and reloads only when it changed', async (t) => {
  const dir = await createTempDir(t);
  const environment = resolveEnvironmentConfig(dir, 'local', EMBEDDED_LOCAL, {});
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    return { code: args[0] === 'is-active' ? 0 : 0, stdout: args[0] === 'is-active' ? 'active\n' : '', stderr: '' };
  };
  const driver = createSystemdDriver(
    environment,
    { ...target, unitDir: dir },
    { clock: createManualClock(), logger: createSilentLogger(), run },
  );
  assert.equal((await driver.restart()).isRunning, true);
  await driver.restart();
  assert.deepEqual(calls, [
    'systemctl daemon-reload',
    'systemctl restart dhash-test.service',
    'systemctl is-active dhash-test.service',
    'systemctl restart dhash-test.service',
    'systemctl is-active dhash-test.service',
  ]);
});
