// `dhash smoke --env E [--log FILE]`: the post-deploy smoke tests against the environment's running service.
import { resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { runSmokeTests } from '../../rollout/checks/smoke.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const registerSmoke: RegisterCommand = (program, ctx, run) => {
  program
    .command('smoke')
    .description(
      'smoke-test the running service: health, metric names, ' +
        'a fixture image with a known hash, a library add + match round trip',
    )
    .requiredOption('--env <name>', 'environment whose service to test')
    .option('--log <file>', 'append the readable report here (default <root>/logs/postdeploy-smoketests.log)')
    .action(
      run(async (opts: { env: string; log?: string }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const result = await runSmokeTests(environment, {
          clock: ctx.clock,
          logFile: opts.log ? resolve(ctx.cwd, opts.log) : undefined,
        });
        for (const c of result.checks)
          ctx.stdout.write(`[${c.ok ? 'PASS' : 'FAIL'}] ${c.name} (${c.durationMs} ms): ${c.detail}\n`);
        const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
        ctx.stdout.write(
          failed.length
            ? `FAILED: ${failed.join(', ')} (log: ${result.logFile})\n`
            : `all ${result.checks.length} smoke tests passed (log: ${result.logFile})\n`,
        );
        return failed.length ? ExitCode.FAILED : ExitCode.OK;
      }),
    );
};
