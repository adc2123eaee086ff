// `dhash premerge [--skip-tests] [--window-seconds N]`:
// the premerge gate and its evidence in premerge_artifacts/ (npm run premerge).
import type { RegisterCommand } from '../context.js';
import { createCommandLogger } from '../command-logger.js';
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createPremergePipeline, type PremergeContext } from '../../rollout/premerge/premerge-pipeline.js';
import { resolvePipeline } from '../../rollout/pipeline/resolve-pipeline.js';
import { runPipeline } from '../../rollout/pipeline/run-pipeline.js';
import { createStepDisplay } from '../../rollout/pipeline/step-display.js';
import { findProjectRoot, getProjectPaths } from '../../lib/project-paths.js';
import { join } from 'node:path';

/** Set for the run when the caller has none, so test_logging proves they never reach a log (they point nowhere). */
export const FAKE_SECRETS: Record<string, string> = {
  SLACK_WEBHOOK: 'http://127.0.0.1:9/services/T0PREMERGE/B0PREMERGE/premergeFakeSlackSecret1',
  TEAMS_WEBHOOK: 'http://127.0.0.1:9/webhookb2/premergeFakeTeamsSecret2',
  DISCORD_WEBHOOK: 'http://127.0.0.1:9/api/webhooks/1/premergeFakeDiscordSecret3',
  EMAIL_PASSWORD: 'premergeFakeSmtpPassword4',
};

export const registerPremerge: RegisterCommand = (program, ctx, run) => {
  program
    .command('premerge')
    .description(
      'type-check, lint, tests, then dry-runs, a real guarded deploy, smoke tests, ' +
        'a short monitor and a backup on a throwaway environment; evidence in premerge_artifacts/',
    )
    .option('--skip-tests', 'skip the test suites (used by the test suite itself, to avoid recursion)')
    .option('--window-seconds <n>', 'monitor window of the throwaway deploy', '45')
    .action(
      run(async (opts: { skipTests?: boolean; windowSeconds: string }) => {
        const windowSeconds = Number(opts.windowSeconds);
        if (!Number.isInteger(windowSeconds) || windowSeconds < 5) {
          throw createError('EINVALIDOPTION', {
            option: '--window-seconds',
            expected: 'a whole number of seconds, at least 5',
            actual: opts.windowSeconds,
          });
        }
        const repoRoot = findProjectRoot(ctx.cwd);
        const artifactsDir = getProjectPaths(repoRoot).premergeArtifactsDir;
        const secrets = Object.fromEntries(Object.entries(FAKE_SECRETS).map(([k, v]) => [k, ctx.processEnv[k] || v]));
        const log = createCommandLogger(ctx, { file: join(repoRoot, 'logs', 'premerge.log'), component: 'premerge' });
        const definition = createPremergePipeline();
        const context: PremergeContext = {
          repoRoot,
          artifactsDir,
          clock: ctx.clock,
          logger: log.logger,
          out: ctx.stdout,
          isSkipTests: Boolean(opts.skipTests),
          windowSeconds,
          // The Node running this command runs the children (read, not changed: process stays the entry file's).
          nodePath: ctx.processEnv.DHASH_NODE ?? process.execPath,
          childEnv: { ...ctx.processEnv, ...secrets, DHASH_PORT: '' },
          fakeSecrets: Object.values(secrets).filter((v) => v.length >= 8),
        };
        const display = createStepDisplay({
          stream: ctx.stdout,
          clock: ctx.clock,
          names: resolvePipeline(definition).entries.map((e) => e.name),
        });
        try {
          await runPipeline(definition, context, { clock: ctx.clock, logger: log.logger, display });
        } finally {
          await display.close();
          await log.close();
        }
        ctx.stdout.write(`premerge passed; artifacts in ${artifactsDir} (manifest.json lists each file's sha256)\n`);
        return ExitCode.OK;
      }),
    );
};
