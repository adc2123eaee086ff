// `dhash telemetry summary [--env E] [--since 72h] [--json]`:
// per-gate worst values and closeness to threshold, for tuning.
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { DURATION_FORM, parseDurationMs } from '../../rollout/core/duration.js';
import { formatTelemetrySummary, summarizeTelemetry } from '../../rollout/report/summarize-telemetry.js';
import { findProjectRoot, getProjectPaths } from '../../lib/project-paths.js';

export const registerTelemetry: RegisterCommand = (program, ctx, run) => {
  const telemetry = program.command('telemetry').description('post-deploy telemetry from monitor_logs/');
  telemetry
    .command('summary')
    .description(
      'summarise monitor_logs/ per gate: polls, worst value, ' +
        'how close each gate came to its threshold, warnings and violations',
    )
    .option('--env <name>', 'only deploys of this environment')
    .option('--since <duration>', 'how far back to look', '72h')
    .option('--json', 'print the summary as JSON')
    .action(
      run(async (opts: { env?: string; since: string; json?: boolean }) => {
        const sinceMs = parseDurationMs(opts.since);
        if (sinceMs === undefined || sinceMs <= 0)
          throw createError('EINVALIDOPTION', { option: '--since', expected: DURATION_FORM, actual: opts.since });
        const dir = getProjectPaths(findProjectRoot(ctx.cwd)).monitorLogsDir;
        const summary = await summarizeTelemetry(dir, { envName: opts.env, sinceMs, nowMs: ctx.clock.now() });
        ctx.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + '\n' : formatTelemetrySummary(summary));
        return ExitCode.OK;
      }),
    );
};
