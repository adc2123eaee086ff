// `dhash gates serve --env E`: GET /v1/verdict for Argo Rollouts
// and POST /v1/flagger for Flagger, until SIGTERM or SIGINT.
import type { Command } from 'commander';
import type { CliContext, RunAction } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { loadQualityGates } from '../../rollout/config/quality-gates.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { FLAGGER_PATH, startGatesServer, VERDICT_PATH } from '../../rollout/verdict/gates-server.js';
import { getCurrentReleaseId } from '../../rollout/release/release-dirs.js';
import { createSignalSource } from '../../rollout/signals/signal-source.js';
import { createJsonLogger } from '../../lib/logger.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const DEFAULT_GATES_PORT = 8790;

interface GatesServeOptions {
  env: string;
  port: string;
  host: string;
  release?: string;
}

/** Registered under `dhash gates` by gates.ts. */
export function registerGatesServe(gates: Command, ctx: CliContext, run: RunAction): void {
  gates
    .command('serve')
    .description(
      `answer GET ${VERDICT_PATH} (Argo Rollouts web metric) ` +
        `and POST ${FLAGGER_PATH} (Flagger webhook) with the gates judged now`,
    )
    .requiredOption('--env <name>', 'environment whose signal source and gates are judged (see environments.json)')
    .option('--port <port>', 'TCP port (0 picks a free one)', String(DEFAULT_GATES_PORT))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--release <id>', "the release the verdict names (default: the environment's `current` release, else none)")
    .action(
      run(async (opts: GatesServeOptions) => {
        const port = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || port > 65535)
          throw createError('EINVALIDOPTION', {
            option: '--port',
            expected: 'a TCP port from 0 to 65535',
            actual: opts.port,
          });
        const projectRoot = findProjectRoot(ctx.cwd);
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const { gates } = await loadQualityGates(projectRoot, opts.env);
        const redact = createRedactor(ctx.processEnv);
        const logger = createJsonLogger({ clock: ctx.clock, redact, streams: [ctx.stdout], component: 'gates' });
        const server = await startGatesServer({
          host: opts.host,
          port,
          environment,
          gates,
          source: createSignalSource(environment, { clock: ctx.clock }),
          clock: ctx.clock,
          logger,
          redact,
          getReleaseId: async () => opts.release ?? (await getCurrentReleaseId(environment)),
        });
        logger.info(`dhash gates listening on ${server.url}`, {
          env: opts.env,
          verdict: `${server.url}${VERDICT_PATH}`,
          flagger: `${server.url}${FLAGGER_PATH}`,
        });
        await new Promise<void>((resolve) => {
          if (ctx.signal?.aborted) return resolve();
          ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        await server.close();
        logger.info('gates server stopped');
        return ExitCode.OK;
      }),
    );
}
