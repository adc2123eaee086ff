// On a `systemd` target the monitor runs as its own transient unit, restarted when it dies: one property list feeds
// both `systemd-run` (how it is started) and a unit file (how `systemd-analyze verify` checks those same properties).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { quoteSystemdWord } from '../target/systemd/render-unit.js';

export interface MonitorUnitInput {
  envName: string;
  deployId: string;
  nodePath: string;
  /** The checkout's dist/cli/main.js: the toolkit, never the release under watch, runs the monitor. */
  mainJs: string;
  projectRoot: string;
  logFile: string;
  user?: string;
  /** The monitor's variables (getMonitorEnvFile): a 0600 file systemd reads, so no secret is in argv or the unit. */
  environmentFile: string;
}

/** The variables of quick-deploy's environment the monitor gets (its database URL, rollout token, channels). */
export const MONITOR_PASSED_ENV = new RegExp(
  '^(PATH|HOME|NODE_ENV|DHASH_[A-Z0-9_]+|SLACK_[A-Z0-9_]+|TEAMS_[A-Z0-9_]+|DISCORD_[A-Z0-9_]+|' +
    'EMAIL_[A-Z0-9_]+|SMTP_[A-Z0-9_]+|PAGERDUTY_[A-Z0-9_]+)$',
);

/**
 * `<root>/state/monitor-<deployId>.env`. Not shared/service.env: the monitor needs other secrets than the service (the
 * rollout token, the channels' webhooks) and its URL under the environment's own `database.urlEnv` name. One per
 * deploy, so that a monitor removing its own file when it ends (removeMonitorEnvFile) never takes the next deploy's.
 */
export function getMonitorEnvFile(environment: ResolvedEnvironment, deployId: string): string {
  return join(environment.stateDir, `monitor-${deployId}.env`);
}

/**
 * The monitor's own file, once its outcome is recorded (finishMonitor): systemd no longer restarts it, so its secrets
 * go. Best effort, as a clean-up must never change an outcome: the file when it could not be removed.
 */
export async function removeMonitorEnvFile(
  environment: ResolvedEnvironment,
  deployId: string,
): Promise<string | undefined> {
  const file = getMonitorEnvFile(environment, deployId);
  return rm(file, { force: true }).then(
    () => undefined,
    () => file,
  );
}

/**
 * At a launch, what earlier monitors left (one that crashed until systemd gave up, or the `monitor.env` of earlier
 * versions): only one monitor unit per environment runs, so none but this deploy's is needed. Best effort: a stale
 * file must never keep the monitor from starting.
 */
export async function removeStaleMonitorEnvFiles(
  environment: ResolvedEnvironment,
  keptDeployId: string,
): Promise<void> {
  const kept = `monitor-${keptDeployId}.env`;
  const names = await readdir(environment.stateDir).catch(() => [] as string[]);
  const stale = names.filter((name) => name !== kept && (name === 'monitor.env' || /^monitor-.+\.env$/.test(name)));
  await Promise.all(stale.map((name) => rm(join(environment.stateDir, name), { force: true }).catch(() => undefined)));
}

/** Pure: the monitor's variables, MONITOR_PASSED_ENV plus a `database.urlEnv` named otherwise, sorted by name. */
export function getMonitorEnvVars(
  environment: ResolvedEnvironment,
  processEnv: Record<string, string | undefined>,
): Record<string, string> {
  const urlEnv = environment.database.engine === 'postgres' ? environment.database.urlEnv : undefined;
  const names = Object.keys(processEnv)
    .filter((name) => (MONITOR_PASSED_ENV.test(name) || name === urlEnv) && processEnv[name] !== undefined)
    .sort();
  return Object.fromEntries(names.map((name) => [name, processEnv[name]!]));
}

export function getMonitorUnitName(envName: string): string {
  return `dhash-monitor-${envName}.service`;
}

/** The monitor's command line: no --resume, so a restart resumes the saved window and a first start opens it. */
export function getMonitorExecArgs(input: MonitorUnitInput): string[] {
  return [input.nodePath, input.mainJs, 'monitor', '--env', input.envName, '--deploy', input.deployId];
}

/**
 * The [Service] properties. Restart only on a crash (a signal such as SIGKILL from the OOM killer, or an exit code the
 * CLI never uses): exits 1–4 are outcomes (rolled back, refused, superseded, blocked) and a restart would only repeat
 * them. SIGTERM (a supersede, `systemctl stop`) is a clean stop for systemd, so it never restarts either.
 */
export function getMonitorServiceProperties(input: MonitorUnitInput): string[] {
  return [
    'Type=simple',
    `WorkingDirectory=${input.projectRoot}`,
    'Restart=on-failure',
    'RestartSec=5',
    'RestartPreventExitStatus=1 2 3 4',
    `StandardOutput=append:${input.logFile}`,
    `StandardError=append:${input.logFile}`,
    'KillMode=mixed',
    'TimeoutStopSec=30',
    // No `-`: a monitor without its database URL and token must fail to start, loudly, not run half-configured.
    `EnvironmentFile=${input.environmentFile}`,
    ...(input.user ? [`User=${input.user}`] : []),
  ];
}

/** Five restarts within ten minutes, then systemd gives up and `dhash status` reports the monitor as not beating. */
export function getMonitorUnitProperties(): string[] {
  return ['StartLimitIntervalSec=600', 'StartLimitBurst=5'];
}

/** Pure: the equivalent unit file (for `systemd-analyze verify`, or to install by hand). */
export function renderMonitorUnit(input: MonitorUnitInput): string {
  return [
    '# The dhash monitor of one deploy; ' +
      'started by quick-deploy as a transient unit (systemd-run) with these properties.',
    '[Unit]',
    `Description=dhash T+60 monitor of ${input.envName} (deploy ${input.deployId})`,
    'After=network.target',
    ...getMonitorUnitProperties(),
    '',
    '[Service]',
    `ExecStart=${getMonitorExecArgs(input).map(quoteSystemdWord).join(' ')}`,
    ...getMonitorServiceProperties(input),
    '',
  ].join('\n');
}

/**
 * `systemd-run` arguments that start the same unit transiently. No `--setenv`: systemd would keep each value in the
 * transient unit (`systemctl show -p Environment` shows it to any user); the variables come from EnvironmentFile=.
 */
export function getSystemdRunArgs(input: MonitorUnitInput): string[] {
  return [
    `--unit=${getMonitorUnitName(input.envName)}`,
    `--description=dhash T+60 monitor of ${input.envName} (deploy ${input.deployId})`,
    '--collect',
    ...getMonitorUnitProperties().flatMap((p) => ['-p', p]),
    ...getMonitorServiceProperties(input)
      .filter((p) => !p.startsWith('WorkingDirectory='))
      .flatMap((p) => ['-p', p]),
    `--working-directory=${input.projectRoot}`,
    '--',
    ...getMonitorExecArgs(input),
  ];
}
