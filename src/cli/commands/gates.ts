// `dhash gates explain --env E`: each gate's threshold, window, action and worst-case time to detect under the cadence.
import type { RegisterCommand } from '../context.js';
import { loadQualityGates } from '../../rollout/config/quality-gates.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { explainGates } from '../../rollout/core/gate-explain.js';
import { formatDurationMs } from '../../rollout/core/duration.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createLineWriter } from '../line-writer.js';
import { registerGatesServe } from './gates-serve.js';

export const registerGates: RegisterCommand = (program, ctx, run) => {
  const gates = program.command('gates').description('inspect the quality gates of quality-gates-config.json');
  gates
    .command('explain')
    .description('print each gate of an environment: threshold, window, action and worst-case time to detect')
    .requiredOption('--env <name>', 'environment (see environments.json)')
    .action(
      run(async (opts: { env: string }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const q = await loadQualityGates(projectRoot, opts.env);
        const out = createLineWriter(ctx);
        const cadence = q.monitor.poll
          .map((p) =>
            p.forMs === undefined
              ? `every ${formatDurationMs(p.everyMs)}`
              : `every ${formatDurationMs(p.everyMs)} for ${formatDurationMs(p.forMs)}`,
          )
          .join(', then ');
        out(
          `Quality gates for ${opts.env}: ` +
            `window ${formatDurationMs(q.monitor.windowMs)} from the deploy, polling ${cadence}.`,
        );
        for (const g of explainGates(q)) {
          out(`\n${g.name}  [${g.action}]`);
          out(`  threshold: ${g.threshold}`);
          out(`  window:    ${g.window}`);
          out(`  worst-case time to detect: ${g.worstCaseDetect}`);
        }
        out(
          '\nrollback gates roll back automatically; alert gates only notify. ' +
            'Warning = above 80% of a threshold, or an alert gate firing.',
        );
        return ExitCode.OK;
      }),
    );
  registerGatesServe(gates, ctx, run);
};
