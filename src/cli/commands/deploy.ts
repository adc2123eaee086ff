// `dhash deploy --env E [--release X] [--dry-run] [--force]`:
// validated, journaled, atomic deploy with automatic switch-back.
import type { RegisterCommand } from '../context.js';
import { createCommandOutputs, formatOutcomeLine } from '../command-outputs.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { createRedactor } from '../../lib/redact.js';
import { deployRelease } from '../../rollout/deploy/deploy-release.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createLineWriter } from '../line-writer.js';

interface DeployCliOptions {
  env: string;
  release?: string;
  dryRun?: boolean;
  force?: boolean;
}

export const registerDeploy: RegisterCommand = (program, ctx, run) => {
  program
    .command('deploy')
    .description(
      'validate, then stage a release, migrate, switch `current` atomically, ' +
        'restart, health-check and smoke-test; switch back on failure',
    )
    .requiredOption('--env <name>', 'environment to deploy to (see environments.json)')
    .option(
      '--release <path>',
      'a release directory or .tar.gz from `dhash release build` (default: build the checkout)',
    )
    .option('--dry-run', 'print the validation results and the plan; change nothing')
    .option(
      '--force',
      'deploy even when production is unhealthy now or a rollback ' +
        'gate already fails on it (every other check still runs)',
    )
    .action(
      run(async (opts: DeployCliOptions) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const redact = createRedactor(ctx.processEnv);
        const out = createLineWriter(ctx, redact);
        const { log, notifier } = createCommandOutputs(ctx, {
          projectRoot,
          environment,
          component: 'deploy',
          redact,
          isDryRun: Boolean(opts.dryRun),
        });
        try {
          out(`${opts.dryRun ? 'DRY RUN: ' : ''}deploy to ${environment.name} (${environment.root})`);
          const input = {
            environment,
            release: opts.release,
            isDryRun: Boolean(opts.dryRun),
            force: Boolean(opts.force),
            clock: ctx.clock,
            logger: log.logger,
            notifier,
            processEnv: ctx.processEnv,
            signal: ctx.signal,
            onProgress: out,
          };
          if (environment.config.target.type === 'ssh') {
            // A fleet: waves over ssh hosts (src/rollout/fleet), loaded only when an environment is one.
            const { rollOutFleet } = await import('../../rollout/fleet/roll-out-fleet.js');
            const fleet = await rollOutFleet({ ...input, redact });
            out(formatOutcomeLine(fleet));
            return fleet.exitCode;
          }
          const result = await deployRelease(input);
          out(formatOutcomeLine(result));
          if (result.smoke) out(`smoke log: ${result.smoke.logFile}`);
          return result.exitCode;
        } finally {
          await log.close();
        }
      }),
    );
};
