// `dhash report --deploy ID | --env E`: renders the self-contained HTML monitor report of one monitored deploy.
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { findLatestDeployId } from '../../rollout/report/monitor-log-files.js';
import { renderMonitorReport } from '../../rollout/report/render-monitor-report.js';
import { findProjectRoot, getProjectPaths } from '../../lib/project-paths.js';

export const registerReport: RegisterCommand = (program, ctx, run) => {
  program
    .command('report')
    .description(
      'render monitor_logs/<deployId>.html (charts of every gate against its threshold; no network needed to view it)',
    )
    .option('--deploy <id>', 'the deploy id, e.g. local-20261128T011500123Z')
    .option('--env <name>', 'use the latest monitored deploy of this environment')
    .action(
      run(async (opts: { deploy?: string; env?: string }) => {
        if (!opts.deploy === !opts.env) {
          throw createError('EINVALIDOPTION', {
            option: '--deploy',
            expected: 'given, or else --env (exactly one of the two)',
            actual: opts.deploy,
          });
        }
        const projectRoot = findProjectRoot(ctx.cwd);
        const dir = getProjectPaths(projectRoot).monitorLogsDir;
        const deployId = opts.deploy ?? (await findLatestDeployId(dir, opts.env!));
        const file = await renderMonitorReport(projectRoot, deployId);
        ctx.stdout.write(`report written: ${file}\n`);
        return ExitCode.OK;
      }),
    );
};
