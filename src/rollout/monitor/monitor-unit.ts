// On a `systemd` target the monitor runs as its own transient unit, restarted when it dies: one property list feeds
// both `systemd-run` (how it is started) and a unit file (how `systemd-analyze verify` checks those same properties).
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
}

/** Variables handed to the unit by name only (`--setenv=NAME`): their values never reach a file or the unit's text. */
export const MONITOR_PASSED_ENV = new RegExp(
  '^(PATH|HOME|NODE_ENV|DHASH_[A-Z0-9_]+|SLACK_[A-Z0-9_]+|TEAMS_[A-Z0-9_]+|DISCORD_[A-Z0-9_]+|' +
    'EMAIL_[A-Z0-9_]+|SMTP_[A-Z0-9_]+|PAGERDUTY_[A-Z0-9_]+)$',
);

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
 * `systemd-run` arguments that start the same unit transiently; secrets are passed by name from the invoking
 * environment.
 */
export function getSystemdRunArgs(input: MonitorUnitInput, processEnv: Record<string, string | undefined>): string[] {
  const passed = Object.keys(processEnv)
    .filter((name) => MONITOR_PASSED_ENV.test(name) && processEnv[name] !== undefined)
    .sort();
  return [
    `--unit=${getMonitorUnitName(input.envName)}`,
    `--description=dhash T+60 monitor of ${input.envName} (deploy ${input.deployId})`,
    '--collect',
    ...getMonitorUnitProperties().flatMap((p) => ['-p', p]),
    ...getMonitorServiceProperties(input)
      .filter((p) => !p.startsWith('WorkingDirectory='))
      .flatMap((p) => ['-p', p]),
    `--working-directory=${input.projectRoot}`,
    ...passed.map((name) => `--setenv=${name}`),
    '--',
    ...getMonitorExecArgs(input),
  ];
}
