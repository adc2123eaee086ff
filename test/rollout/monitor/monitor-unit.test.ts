import { once } from 'node:events';
// The systemd-supervised monitor: its unit passes `systemd-analyze verify`, systemd-run gets the same properties, and
// quick-deploy's launch waits for the unit's monitor to hold the
// lock (systemd is not PID 1 here, so systemd-run is stubbed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EMBEDDED_LOCAL,
  resolveEnvironment,
  resolveEnvironmentConfig,
} from '../../../src/rollout/config/environments.js';
import { environmentSchema } from '../../../src/rollout/config/environments-schema.js';
import { parseServiceEnv } from '../../../src/rollout/host/service-env.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { appendJournal } from '../../../src/rollout/state/journal.js';
import {
  getMonitorEnvFile,
  getMonitorEnvVars,
  getSystemdRunArgs,
  renderMonitorUnit,
  type MonitorUnitInput,
} from '../../../src/rollout/monitor/monitor-unit.js';
import { launchDetachedMonitor } from '../../../src/rollout/monitor/launch-monitor.js';
import type { CommandRunner } from '../../../src/rollout/target/systemd/systemd-driver.js';
import { getFreePort } from '../../helpers/free-port.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const SLACK_SECRET_URL = 'https://hooks.slack.com/services/T0/B0/s3cr3t-webhook';

const unitInput = (dir: string): MonitorUnitInput => ({
  envName: 'production',
  deployId: 'production-20261128T010000000Z',
  nodePath: process.execPath,
  mainJs: join(dir, 'dist/cli/main.js'),
  projectRoot: dir,
  logFile: join(dir, 'logs', 'monitor-production-20261128T010000000Z.log'),
  environmentFile: join(dir, 'state', 'monitor-production-20261128T010000000Z.env'),
});

test('the monitor unit passes systemd-analyze verify and restarts only on a crash', async (t) => {
  const dir = await createTempDir(t);
  const unitFile = join(dir, 'dhash-monitor-production.service');
  const text = renderMonitorUnit(unitInput(dir));
  await writeFile(unitFile, text);
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  // verify may warn about paths missing at runtime (the ExecStart
  // binary's folder); it must not report unit syntax errors.
  const problems = (result.stderr + result.stdout)
    .split('\n')
    .filter(
      (l) =>
        l.includes('dhash-monitor-production.service') &&
        !/(No such file|not found|Failed to set up|Cannot add dependency|not executable)/i.test(l),
    );
  assert.deepEqual(problems, []);
  assert.equal(result.status, 0, result.stderr);
  assert.ok(
    text.includes(
      `ExecStart=${process.execPath} ${dir}/dist/cli/main.js monitor --env production --deploy ` +
        `production-20261128T010000000Z\n`,
    ),
    text,
  );
  for (const line of [
    'Restart=on-failure',
    'RestartPreventExitStatus=1 2 3 4',
    'StartLimitBurst=5',
    `StandardOutput=append:${dir}/logs/monitor-production-20261128T010000000Z.log`,
    `EnvironmentFile=${dir}/state/monitor-production-20261128T010000000Z.env`,
  ]) {
    assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  }
});

test('systemd-run gets the same properties, the variables through EnvironmentFile= and none by --setenv', async (t) => {
  const dir = await createTempDir(t);
  const args = getSystemdRunArgs(unitInput(dir));
  assert.deepEqual(args.slice(0, 3), [
    '--unit=dhash-monitor-production.service',
    '--description=dhash T+60 monitor of production (deploy production-20261128T010000000Z)',
    '--collect',
  ]);
  assert.ok(args.includes('Restart=on-failure') && args[args.indexOf('Restart=on-failure') - 1] === '-p');
  assert.ok(args.includes(`--working-directory=${dir}`));
  assert.equal(args[args.indexOf(`EnvironmentFile=${dir}/state/monitor-production-20261128T010000000Z.env`) - 1], '-p');
  assert.deepEqual(
    args.filter((a) => a.startsWith('--setenv') || a.startsWith('-E')),
    [],
  );
  assert.deepEqual(args.slice(args.indexOf('--') + 1), [
    process.execPath,
    join(dir, 'dist/cli/main.js'),
    'monitor',
    '--env',
    'production',
    '--deploy',
    'production-20261128T010000000Z',
  ]);
});

async function createSystemdProject(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await createTempDir(t, 'dhash-monitor-unit-');
  await symlink(join(REPO_ROOT, 'dist'), join(root, 'dist'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  const port = await getFreePort();
  await writeFile(
    join(root, 'environments.json'),
    JSON.stringify({
      environments: {
        local: {
          root: '.dhash/local',
          service: { host: '127.0.0.1', port },
          target: { type: 'systemd', unitName: 'dhash-local.service', unitDir: join(root, 'units') },
        },
      },
    }),
  );
  const gates = JSON.parse(await readFile(join(REPO_ROOT, 'quality-gates-config.json'), 'utf8'));
  gates.environments.local = { monitor: { window: '10m', poll: [{ every: '1s' }] } };
  await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates));
  const environment = await resolveEnvironment(root, 'local', {});
  const deployId = `local-${new Date().toISOString().replace(/[-:.]/g, '')}`;
  await appendJournal(environment, {
    time: new Date().toISOString(),
    deployId,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: 'r1',
  });
  await mkdir(environment.logsDir, { recursive: true });
  return { root, env: environment, deployId };
}

test(
  'on a systemd target quick-deploy starts the monitor with systemd-run and reports it only once it holds the lock',
  { timeout: 60_000 },
  async (t) => {
    let unitProcess: ChildProcess | undefined;
    // Registered before the project's temp folder (hooks run in order),
    // so the unit's process has exited before its folder is removed.
    t.after(async () => {
      if (!unitProcess || unitProcess.exitCode !== null || unitProcess.signalCode !== null) return;
      const exited = once(unitProcess, 'exit');
      unitProcess.kill('SIGKILL');
      await exited;
    });
    const { root, env: environment, deployId } = await createSystemdProject(t);
    // What earlier monitors left: a crashed one's file and the monitor.env of earlier versions.
    const stale = ['monitor-local-20261101T000000000Z.env', 'monitor.env'].map((n) => join(environment.stateDir, n));
    await mkdir(environment.stateDir, { recursive: true });
    for (const file of stale) await writeFile(file, 'SLACK_WEBHOOK=old-secret\n', { mode: 0o600 });
    const calls: string[][] = [];
    // Stands in for systemd: runs the unit's ExecStart (everything after `--`) as its main process, with the
    // variables of its EnvironmentFile= and nothing else, as systemd would.
    const run: CommandRunner = async (file, args) => {
      calls.push([file, ...args]);
      if (file === 'systemd-run') {
        const exec = args.slice(args.indexOf('--') + 1);
        const envFile = args.find((a) => a.startsWith('EnvironmentFile='))!.slice('EnvironmentFile='.length);
        unitProcess = spawn(exec[0], exec.slice(1), {
          cwd: root,
          env: parseServiceEnv(await readFile(envFile, 'utf8'), envFile),
          stdio: 'ignore',
        });
      }
      return { code: 0, stdout: '', stderr: '' };
    };
    const launch = await launchDetachedMonitor({
      projectRoot: root,
      envName: 'local',
      deployId,
      logsDir: environment.logsDir,
      processEnv: { PATH: process.env.PATH, DHASH_PORT: '', SLACK_WEBHOOK: SLACK_SECRET_URL, AWS_SECRET: 'nope-9' },
      environment,
      clock: createSystemClock(),
      run,
    });
    assert.equal(launch.pid, unitProcess!.pid);
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['systemctl', 'systemd-run'],
    );
    assert.deepEqual(calls[0], ['systemctl', 'reset-failed', 'dhash-monitor-local.service']);
    assert.ok(calls[1].includes('--unit=dhash-monitor-local.service'));
    assert.equal(launch.followCommands[0], 'journalctl -u dhash-monitor-local.service -f');
    // The secrets are in the 0600 file the unit names, never in systemd-run's argv.
    const envFile = join(environment.stateDir, `monitor-${deployId}.env`);
    assert.deepEqual(
      stale.filter((file) => existsSync(file)),
      [],
      'a launch removes the files earlier monitors left',
    );
    assert.ok(calls[1].includes(`EnvironmentFile=${envFile}`), calls[1].join(' '));
    assert.equal(calls[1].join(' ').includes('hooks.slack.com'), false, 'the webhook is not in argv');
    assert.equal((await stat(envFile)).mode & 0o777, 0o600);
    assert.deepEqual(parseServiceEnv(await readFile(envFile, 'utf8'), envFile), {
      DHASH_PORT: '',
      PATH: process.env.PATH,
      SLACK_WEBHOOK: SLACK_SECRET_URL,
    });
  },
);

test("the monitor's variables: the channels, the rollout token and a database.urlEnv of any name", async (t) => {
  const root = await createTempDir(t);
  const config = {
    ...EMBEDDED_LOCAL,
    target: { type: 'systemd', unitName: 'dhash-staging.service', unitDir: root },
    database: { engine: 'postgres', urlEnv: 'STAGING_DB_URL' },
  };
  const processEnv = {
    STAGING_DB_URL: 'postgres://dhash:pw-1@db:5432/dhash',
    OTHER_DB_URL: 'postgres://dhash:pw-2@db:5432/other',
    DHASH_ROLLOUT_TOKEN: 'rollout-token-1',
    EMAIL_PASS: 'mail-pass',
    HOME: '/root',
    AWS_SECRET: 'nope',
  };
  const environment = resolveEnvironmentConfig(root, 'staging', environmentSchema.parse(config), processEnv);
  assert.deepEqual(getMonitorEnvVars(environment, processEnv), {
    DHASH_ROLLOUT_TOKEN: 'rollout-token-1',
    EMAIL_PASS: 'mail-pass',
    HOME: '/root',
    STAGING_DB_URL: 'postgres://dhash:pw-1@db:5432/dhash',
  });
  assert.equal(
    getMonitorEnvFile(environment, 'staging-20261128T010000000Z'),
    join(root, '.dhash', 'local', 'state', 'monitor-staging-20261128T010000000Z.env'),
  );
});

test('an unwritable variable is EMONITORNOTSTARTED naming it, and systemd-run never runs', async (t) => {
  const { root, env: environment, deployId } = await createSystemdProject(t);
  const calls: string[] = [];
  const run: CommandRunner = async (file) => (calls.push(file), { code: 0, stdout: '', stderr: '' });
  await assert.rejects(
    launchDetachedMonitor({
      projectRoot: root,
      envName: 'local',
      deployId,
      logsDir: environment.logsDir,
      processEnv: { SLACK_WEBHOOK: 'https://x/secret\nINJECTED=1' },
      environment,
      clock: createSystemClock(),
      run,
    }),
    (e) =>
      isDhashError(e, 'EMONITORNOTSTARTED') &&
      e.exitCode === 4 &&
      e.message ===
        `The monitor of deploy ${deployId} did not start: its environment file ` +
          `${join(environment.stateDir, `monitor-${deployId}.env`)} could not be written ` +
          '(SLACK_WEBHOOK: the value holds a line break or NUL).',
  );
  assert.deepEqual(calls, ['systemctl']);
  assert.equal(existsSync(join(environment.stateDir, `monitor-${deployId}.env`)), false);
});

test("a systemd-run that fails is EMONITORNOTSTARTED (exit 4) with systemd's words", async (t) => {
  const { root, env: environment, deployId } = await createSystemdProject(t);
  const run: CommandRunner = async (file) =>
    file === 'systemd-run'
      ? {
          code: 1,
          stdout: '',
          stderr: 'Failed to start transient service unit: Unit dhash-monitor-local.service already exists.\n',
        }
      : { code: 0, stdout: '', stderr: '' };
  await assert.rejects(
    launchDetachedMonitor({
      projectRoot: root,
      envName: 'local',
      deployId,
      logsDir: environment.logsDir,
      processEnv: {},
      environment,
      clock: createSystemClock(),
      run,
    }),
    (e) =>
      isDhashError(e, 'EMONITORNOTSTARTED') &&
      e.exitCode === 4 &&
      e.message ===
        `The monitor of deploy ${deployId} did not start: systemd-run exited 1: Failed to start ` +
          `transient service unit: Unit dhash-monitor-local.service already exists.`,
  );
});
