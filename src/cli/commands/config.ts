// `dhash config check [--env E]`:
// validate both config files (every problem with its JSON path, exit 2) and print the effective settings, redacted.
import { relative } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { formatDurationMs } from '../../rollout/core/duration.js';
import { checkConfigFiles } from '../../rollout/config/check-config.js';
import { resolveEnvironmentConfig, type ResolvedEnvironment } from '../../rollout/config/environments.js';
import { resolveQualityGates } from '../../rollout/config/quality-gates.js';
import { explainGates } from '../../rollout/core/gate-explain.js';
import { createChannel } from '../../rollout/notify/index.js';
import { CHANNEL_NAMES } from '../../rollout/config/environments-schema.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createLineWriter } from '../line-writer.js';

/** The variables that configure notifications: printed as set/unset, never with their values. */
const NOTIFICATION_VARIABLES = [
  'SLACK_WEBHOOK',
  'TEAMS_WEBHOOK',
  'DISCORD_WEBHOOK',
  'DEPLOY_WEBHOOK',
  'PAGERDUTY_ROUTING_KEY',
  'PAGERDUTY_URL',
  'EMAIL_SMTP_URL',
  'EMAIL_HOST',
  'EMAIL_PORT',
  'EMAIL_USER',
  'EMAIL_PASS',
  'EMAIL_FROM',
  'EMAIL_TO',
];

export const registerConfig: RegisterCommand = (program, ctx, run) => {
  const config = program
    .command('config')
    .description('inspect the configuration (environments.json, quality-gates-config.json)');
  config
    .command('check')
    .description(
      'validate environments.json and quality-gates-config.json and ' +
        'print the effective settings per environment (secrets redacted)',
    )
    .option('--env <name>', 'print only this environment')
    .addHelpText('after', '\nExit 2 listing every problem with its file and JSON path when either file is invalid.')
    .action(
      run(async (opts: { env?: string }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const redact = createRedactor(ctx.processEnv);
        const out = createLineWriter(ctx, redact);
        const check = await checkConfigFiles(projectRoot);
        if (check.problems.length > 0) {
          const files = [...new Set(check.problems.map((p) => p.file))];
          throw createError('EINVALIDCONFIG', {
            file: files.join(' and '),
            problems: check.problems.map((p) => ({
              path: files.length > 1 ? `${p.file}: ${p.path || '(file)'}` : p.path,
              message: p.message,
            })),
          });
        }
        const known = Object.keys(check.environments!.environments).sort();
        if (opts.env && !known.includes(opts.env)) throw createError('EUNKNOWNENV', { env: opts.env, known });
        out(`environments.json: OK (${known.join(', ')})`);
        out('quality-gates-config.json: OK');
        for (const note of check.notes) out(`note: ${note}`);
        for (const name of opts.env ? [opts.env] : known) {
          const environment = resolveEnvironmentConfig(
            projectRoot,
            name,
            check.environments!.environments[name]!,
            ctx.processEnv,
          );
          out('');
          for (const line of describeEnvironment(environment, projectRoot, ctx.processEnv)) out(line);
          const gates = resolveQualityGates(check.qualityGates!, name);
          const cadence = gates.monitor.poll
            .map((p) => {
              const forText = p.forMs === undefined ? '' : ` for ${formatDurationMs(p.forMs)}`;
              return `every ${formatDurationMs(p.everyMs)}${forText}`;
            })
            .join(', then ');
          out(`  monitor:   window ${formatDurationMs(gates.monitor.windowMs)}, poll ${cadence}`);
          for (const g of explainGates(gates)) out(`  gate:      ${g.name.padEnd(22)} ${g.threshold} [${g.action}]`);
        }
        out('');
        const variableStates = NOTIFICATION_VARIABLES.map((v) => `${v}=${ctx.processEnv[v] ? 'set' : 'unset'}`);
        out(`notification variables: ${variableStates.join(' ')}`);
        const configured = CHANNEL_NAMES.filter((c) => {
          try {
            return createChannel(c, ctx.processEnv) !== undefined;
          } catch {
            return false;
          }
        });
        const channelsText = configured.length
          ? configured.join(', ')
          : 'none (notifications go to notifications_out/)';
        out(`channels configured: ${channelsText}`);
        return ExitCode.OK;
      }),
    );
};

function describeEnvironment(
  environment: ResolvedEnvironment,
  projectRoot: string,
  vars: Record<string, string | undefined>,
): string[] {
  const c = environment.config;
  const portEnv = c.service.portEnv;
  const portSource = portEnv && vars[portEnv] ? `from ${portEnv}` : portEnv ? `${portEnv} unset` : 'from config';
  const t = c.target;
  const target =
    t.type === 'process'
      ? `process (SIGTERM, SIGKILL after ${formatDurationMs(t.stopTimeoutMs)})`
      : t.type === 'systemd'
        ? `systemd ${t.unitName} in ${t.unitDir}${t.user ? ` as ${t.user}` : ''}`
        : t.type === 'command'
          ? `command (start: ${t.start}; stop: ${t.stop}; status: ${t.status}; ` +
            `timeout ${formatDurationMs(t.timeoutMs)})`
          : `ssh fleet of ${t.hosts.length} (${t.hosts.map((h) => h.name).join(', ')}); ` +
            `waves ${JSON.stringify(t.waves)}, bake ${t.bake}, maxUnavailable ${t.maxUnavailable}`;
  const signalsText =
    c.signals.source === 'prometheus' ? `prometheus ${c.signals.url} {${c.signals.selector}}` : 'service /metrics';
  const r = c.notifications.routing;
  return [
    `${environment.name}${c.isProduction ? ' (production)' : ''}${c.description ? ` — ${c.description}` : ''}`,
    `  root:      ${environment.root}`,
    `  service:   ${environment.host}:${environment.port} (port ${portSource})`,
    `  health:    ${environment.healthUrl}`,
    `  metrics:   ${environment.metricsUrl}`,
    `  target:    ${target}`,
    `  signals:   ${signalsText}`,
    `  releases:  keep ${c.releases.keep}`,
    `  backups:   ${relative(projectRoot, environment.backupsDir) || environment.backupsDir}/ (keep ${c.backups.keep})`,
    `  deploy:    min free disk ${c.deploy.minFreeDiskMb} MB, ${c.deploy.healthyChecksRequired} OK health checks ` +
      `every ${formatDurationMs(c.deploy.healthCheckIntervalMs)}, ` +
      `timeout ${formatDurationMs(c.deploy.healthTimeoutMs)}`,
    `  routing:   info → ${r.info.join(', ') || 'none'}; ` +
      `warning → ${r.warning.join(', ') || 'none'}; critical → ${r.critical.join(', ') || 'none'}`,
  ];
}
