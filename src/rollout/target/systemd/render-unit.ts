// Renders the systemd unit of an environment's service (pure: values in, unit text out).

export interface UnitInput {
  envName: string;
  nodePath: string;
  currentLink: string;
  serveArgs: string[];
  logFile: string;
  user?: string;
  stopTimeoutSec: number;
  environment: Record<string, string>;
  /** Read by systemd if present (`-`): a fleet host's shared/service.env (DHASH_DATABASE_URL, DHASH_API_TOKENS). */
  environmentFile?: string;
}

/** systemd's own quoting for ExecStart words: double quotes, with backslash, quote, `$` and `%` escaped. */
export function quoteSystemdWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) && !word.includes('%')) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

export function renderSystemdUnit(input: UnitInput): string {
  const exec = [input.nodePath, ...input.serveArgs].map(quoteSystemdWord).join(' ');
  const env = Object.entries(input.environment).map(([k, v]) => `Environment=${quoteSystemdWord(`${k}=${v}`)}`);
  return [
    '# Written by `dhash deploy` (systemd target driver); edits are overwritten on the next deploy.',
    '[Unit]',
    `Description=dhash perceptual hash service (${input.envName})`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${input.currentLink}`,
    `ExecStart=${exec}`,
    ...env,
    ...(input.environmentFile ? [`EnvironmentFile=-${input.environmentFile}`] : []),
    ...(input.user ? [`User=${input.user}`] : []),
    'Restart=on-failure',
    'RestartSec=2',
    `TimeoutStopSec=${input.stopTimeoutSec}`,
    'KillMode=mixed',
    `StandardOutput=append:${input.logFile}`,
    `StandardError=append:${input.logFile}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
