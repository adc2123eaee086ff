// `dhash serve`: runs the HTTP service until SIGTERM/SIGINT, then drains requests and closes the database.
import { join, resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../rollout/core/exit-codes.js';
import { createError } from '../../rollout/core/errors.js';
import { createRedactor } from '../../rollout/core/redact.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { readServiceVersion } from '../../service/build-version.js';
import { createRequestLogger } from '../../service/http/request-logger.js';
import { startService } from '../../service/start-service.js';

export const DEFAULT_SERVICE_PORT = 8787;
export const DEFAULT_SERVICE_HOST = '127.0.0.1';

interface ServeOptions {
  port?: string;
  host: string;
  db?: string;
  migrate?: boolean;
}

export const registerServe: RegisterCommand = (program, ctx, run) => {
  program
    .command('serve')
    .description('run the dhash HTTP service (JSON request logs on stdout) until SIGTERM or SIGINT')
    .option('--port <port>', `TCP port (default: $DHASH_PORT, else ${DEFAULT_SERVICE_PORT}; 0 picks a free one)`)
    .option('--host <host>', 'address to listen on', DEFAULT_SERVICE_HOST)
    .option('--db <file>', 'SQLite database file (default: .dhash/dhash.sqlite under the project root)')
    .option('--migrate', 'apply pending schema migrations before serving (development shortcut for `dhash migrate`)')
    .action(
      run(async (opts: ServeOptions) => {
        const port = parsePort(opts.port ?? ctx.env.DHASH_PORT ?? String(DEFAULT_SERVICE_PORT), opts.port === undefined ? 'DHASH_PORT' : '--port');
        const dbFile = opts.db ? resolve(ctx.cwd, opts.db) : join(findProjectRoot(ctx.cwd), '.dhash', 'dhash.sqlite');
        const logger = createRequestLogger({ stream: ctx.stdout, redact: createRedactor(ctx.env) });
        const service = await startService({
          host: opts.host,
          port,
          dbFile,
          version: await readServiceVersion(),
          migrate: opts.migrate === true,
          signal: ctx.signal,
          logger,
        });
        await service.closed;
        return ExitCode.OK;
      }),
    );
};

function parsePort(value: string, option: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw createError('EINVALIDOPTION', { option, expected: 'a TCP port from 0 to 65535', actual: value });
  return port;
}
