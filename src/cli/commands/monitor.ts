// `dhash monitor --env E [--deploy ID] [--resume] [--dry-run] [--from-now]`:
// the T+60 monitor of one deploy, with quality gates and auto-rollback.
import { join } from 'node:path';
import { createCliNotifier } from '../cli-notifier.js';
import type { RegisterCommand } from '../context.js';
import { createCommandLogger } from '../command-logger.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { loadQualityGates } from '../../rollout/config/quality-gates.js';
import { createRedactor } from '../../lib/redact.js';
import { runMonitor } from '../../rollout/monitor/run-monitor.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const registerMonitor: RegisterCommand = (program, ctx, run) => {
  program
    .command('monitor')
    .description(
      'watch one deploy (default: the latest) for its window (quality-gates-config.json); ' +
        'roll back automatically when a rollback gate is violated',
    )
    .requiredOption('--env <name>', 'environment to monitor (see environments.json)')
    .option(
      '--deploy <id>',
      'the deploy to watch (default: the latest deploy in the journal); state, logs and actions belong to it',
    )
    .option(
      '--resume',
      "pick up the deploy's saved window (also the default when one exists); fails when there is none",
    )
    .option('--dry-run', 'evaluate and log the gates and what would be done; never roll back')
    .option('--from-now', 'open a fresh window starting now instead of at the recorded deploy')
    .action(
      run(async (opts: { env: string; deploy?: string; resume?: boolean; dryRun?: boolean; fromNow?: boolean }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const gates = await loadQualityGates(projectRoot, environment.name);
        const redact = createRedactor(ctx.processEnv);
        const log = createCommandLogger(ctx, { file: join(environment.logsDir, 'monitor.log'), component: 'monitor' });
        try {
          const notifier = createCliNotifier(ctx, {
            projectRoot,
            environment,
            logger: log.logger,
            redact,
            isDryRun: Boolean(opts.dryRun),
          });
          const result = await runMonitor({
            environment,
            gates,
            clock: ctx.clock,
            logger: log.logger,
            notifier,
            isDryRun: Boolean(opts.dryRun),
            isFromNow: Boolean(opts.fromNow),
            deployId: opts.deploy,
            isResume: Boolean(opts.resume),
            signal: ctx.signal,
            processEnv: ctx.processEnv,
            print: (line) => ctx.stdout.write(redact(line) + '\n'),
          });
          return result.exitCode;
        } finally {
          await log.close();
        }
      }),
    );
};
