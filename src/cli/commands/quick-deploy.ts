// `dhash quick-deploy --env E [--release X] [--skip-migrations] [--dry-run] [--follow]`:
// the one-command guarded deploy.
import { join, relative } from 'node:path';
import { createCliNotifier } from '../cli-notifier.js';
import { Writable } from 'node:stream';
import type { RegisterCommand } from '../context.js';
import { createCommandLogger } from '../command-logger.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createRedactor } from '../../lib/redact.js';
import { createQuickDeployPipeline, type QuickDeployContext } from '../../rollout/pipeline/quick-deploy-pipeline.js';
import { formatQuickDeploySummary } from '../../rollout/pipeline/quick-deploy-summary.js';
import { resolvePipeline } from '../../rollout/pipeline/resolve-pipeline.js';
import { runPipeline } from '../../rollout/pipeline/run-pipeline.js';
import { createStepDisplay } from '../../rollout/pipeline/step-display.js';
import { createPipelineReport } from '../../rollout/pipeline/types.js';
import { renderMonitorReport } from '../../rollout/report/render-monitor-report.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const registerQuickDeploy: RegisterCommand = (program, ctx, run) => {
  program
    .command('quick-deploy')
    .description(
      'pre-deploy validation → verified backup → migrations → deploy ' +
        '→ smoke tests → T+60 monitor (detached); see `dhash pipeline steps`',
    )
    .requiredOption('--env <name>', 'environment to deploy to (see environments.json)')
    .option(
      '--release <path>',
      'a release directory or .tar.gz from `dhash release build` (default: build the checkout)',
    )
    .option('--skip-migrations', 'do not migrate; refused when the release has pending migrations')
    .option('--dry-run', 'validate, print the plan and the backup it would take; change nothing')
    .option('--follow', 'stay attached to the monitor, stream it live, and exit with its exit code')
    .option(
      '--force',
      'deploy even when production is unhealthy now or a rollback ' +
        'gate already fails on it (every other check still runs)',
    )
    .action(
      run(
        async (opts: {
          env: string;
          release?: string;
          skipMigrations?: boolean;
          dryRun?: boolean;
          follow?: boolean;
          force?: boolean;
        }) => {
          const projectRoot = findProjectRoot(ctx.cwd);
          const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
          const isDryRun = Boolean(opts.dryRun);
          const redact = createRedactor(ctx.processEnv);
          const log = createCommandLogger(ctx, {
            file: isDryRun ? undefined : join(environment.logsDir, 'quick-deploy.log'),
            component: 'quick-deploy',
          });
          const definition = createQuickDeployPipeline();
          const names = resolvePipeline(definition).entries.map((e) => e.name);
          // listr redraws the terminal, so it is used only on a TTY and not while streaming the monitor.
          const isListr = Boolean(ctx.stdout.isTTY) && !opts.follow;
          const display = createStepDisplay({
            stream: ctx.stdout,
            clock: ctx.clock,
            names: isListr ? names : undefined,
          });
          const out = isListr ? createNoteStream((line) => display.note(line)) : ctx.stdout;
          const context: QuickDeployContext = {
            projectRoot,
            environment,
            processEnv: ctx.processEnv,
            clock: ctx.clock,
            logger: log.logger,
            redact,
            isDryRun,
            release: opts.release,
            isSkipMigrations: Boolean(opts.skipMigrations),
            isFollow: Boolean(opts.follow),
            isForce: Boolean(opts.force),
            out,
            signal: ctx.signal,
            notifier: createCliNotifier(ctx, {
              projectRoot,
              environment,
              logger: log.logger,
              redact,
              isDryRun,
            }),
          };
          const report = createPipelineReport(definition.name);
          try {
            await runPipeline(definition, context, { clock: ctx.clock, logger: log.logger, display, isDryRun, report });
            return ExitCode.OK;
          } finally {
            await display.close();
            const reportFile =
              context.isFollow && context.deploy?.deployId
                ? await renderMonitorReport(projectRoot, context.deploy.deployId).catch(() => undefined)
                : undefined;
            ctx.stdout.write(
              redact(
                formatQuickDeploySummary(context, report, {
                  reportFile: reportFile && relative(projectRoot, reportFile),
                }),
              ),
            );
            await log.close();
          }
        },
      ),
    );
};

/** A text sink that hands complete lines to `onLine` (plans are shown under the step list on a TTY). */
function createNoteStream(onLine: (line: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, callback) {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      callback();
    },
  });
}
