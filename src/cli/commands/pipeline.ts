// `dhash pipeline steps --env E [--dry-run]`: prints the quick-deploy pipeline as it will run, hooks included.
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createQuickDeployPipeline } from '../../rollout/pipeline/quick-deploy-pipeline.js';
import { formatResolvedPipeline, resolvePipeline } from '../../rollout/pipeline/resolve-pipeline.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const registerPipeline: RegisterCommand = (program, ctx, run) => {
  const pipeline = program.command('pipeline').description('the quick-deploy pipeline as data');
  pipeline
    .command('steps')
    .description('print the resolved step list of ./quick-deploy.sh with its hooks, in execution order')
    .requiredOption('--env <name>', 'environment (validated; the list is the same for every environment)')
    .option('--dry-run', 'mark what --dry-run skips')
    .action(
      run(async (opts: { env: string; dryRun?: boolean }) => {
        const environment = await resolveEnvironment(findProjectRoot(ctx.cwd), opts.env, ctx.processEnv);
        ctx.stdout.write(
          formatResolvedPipeline(resolvePipeline(createQuickDeployPipeline()), {
            envName: environment.name,
            isDryRun: Boolean(opts.dryRun),
          }),
        );
        return ExitCode.OK;
      }),
    );
};
