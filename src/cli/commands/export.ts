// `dhash export argo-analysis --env E`:
// the Argo Rollouts AnalysisTemplate reading `dhash gates serve`, on stdout or --out FILE.
import { resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { loadQualityGates } from '../../rollout/config/quality-gates.js';
import { renderArgoAnalysisTemplate } from '../../rollout/core/argo-analysis.js';
import { DURATION_FORM, parseDurationMs } from '../../rollout/core/duration.js';
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { VERDICT_PATH } from '../../rollout/verdict/gates-server.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { DEFAULT_GATES_PORT } from './gates-serve.js';

interface ExportArgoOptions {
  env: string;
  url: string;
  out?: string;
  interval?: string;
  count?: string;
  failureLimit: string;
  inconclusiveLimit: string;
  timeoutSeconds: string;
}

export const registerExport: RegisterCommand = (program, ctx, run) => {
  const exporter = program.command('export').description('write configuration for other deployment tools');
  exporter
    .command('argo-analysis')
    .description(
      `write an Argo Rollouts AnalysisTemplate whose web metric reads GET ${VERDICT_PATH} of \`dhash gates serve\``,
    )
    .requiredOption('--env <name>', 'environment whose gates the template judges (see environments.json)')
    .option(
      '--url <url>',
      `base URL of \`dhash gates serve\` as the cluster reaches it, or the full ${VERDICT_PATH} URL`,
      `http://127.0.0.1:${DEFAULT_GATES_PORT}`,
    )
    .option('--out <file>', 'write the YAML here (atomically) instead of stdout')
    .option('--interval <duration>', "time between measurements (default: the environment's first poll cadence)")
    .option('--count <n>', 'measurements per analysis (default: the monitor window divided by the interval)')
    .option('--failure-limit <n>', 'failed measurements tolerated before the rollout aborts', '0')
    .option('--inconclusive-limit <n>', 'inconclusive measurements tolerated before the rollout pauses', '0')
    .option('--timeout-seconds <n>', 'timeout of one verdict request', '20')
    .action(
      run(async (opts: ExportArgoOptions) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const quality = await loadQualityGates(projectRoot, opts.env);
        const intervalMs =
          opts.interval === undefined ? quality.monitor.poll[0].everyMs : parseDurationMs(opts.interval);
        if (intervalMs === undefined || intervalMs < 1000)
          throw createError('EINVALIDOPTION', {
            option: '--interval',
            expected: `${DURATION_FORM} of at least 1s`,
            actual: opts.interval,
          });
        const yaml = renderArgoAnalysisTemplate({
          envName: opts.env,
          verdictUrl: getVerdictUrl(opts.url),
          intervalMs,
          count:
            opts.count === undefined
              ? Math.max(1, Math.ceil(quality.monitor.windowMs / intervalMs))
              : parseCount('--count', opts.count, 1),
          failureLimit: parseCount('--failure-limit', opts.failureLimit, 0),
          inconclusiveLimit: parseCount('--inconclusive-limit', opts.inconclusiveLimit, 0),
          timeoutSeconds: parseCount('--timeout-seconds', opts.timeoutSeconds, 1),
        });
        if (opts.out === undefined) ctx.stdout.write(yaml);
        else await writeFileAtomic(resolve(ctx.cwd, opts.out), yaml);
        return ExitCode.OK;
      }),
    );
};

/** A base URL gets the verdict path appended; a URL already ending in it is kept. */
function getVerdictUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw createError('EINVALIDOPTION', {
      option: '--url',
      expected: 'an http(s) URL such as http://dhash-gates.dhash.svc:8790',
      actual: text,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw createError('EINVALIDOPTION', { option: '--url', expected: 'an http(s) URL', actual: text });
  if (url.username || url.password)
    throw createError('EINVALIDOPTION', {
      option: '--url',
      expected: 'a URL without credentials (they would be written into the template)',
      actual: `${url.protocol}//…@${url.host}`,
    });
  if (url.pathname.replace(/\/$/, '').endsWith(VERDICT_PATH)) return url.href;
  url.pathname = `${url.pathname.replace(/\/$/, '')}${VERDICT_PATH}`;
  return url.href;
}

function parseCount(option: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min)
    throw createError('EINVALIDOPTION', { option, expected: `a whole number of at least ${min}`, actual: text });
  return n;
}
