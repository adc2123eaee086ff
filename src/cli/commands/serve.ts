// `dhash serve`: runs the HTTP service until SIGTERM/SIGINT, then drains requests and closes the database.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { readServiceVersion } from '../../service/build-version.js';
import { createRequestLogger } from '../../service/http/request-logger.js';
import { startService } from '../../service/start-service.js';
import type { StoreLocation } from '../../service/store/open-service-store.js';
import { DATABASE_URL_ENV, parsePostgresUrl } from '../../service/store/postgres/pg-url.js';
import {
  ADMISSION_LIMIT_SPECS,
  resolveAdmissionLimits,
  type AdmissionSources,
} from '../../service/http/admission-config.js';
import { DEFAULT_ADMISSION_LIMITS } from '../../service/http/admission.js';
import {
  API_TOKENS_ENV,
  API_TOKENS_FILE_ENV,
  PROTECT_PROBES_ENV,
  resolveAuth,
} from '../../service/http/auth-config.js';

export const DEFAULT_SERVICE_PORT = 8787;
export const DEFAULT_SERVICE_HOST = '127.0.0.1';

interface ServeOptions {
  port?: string;
  host: string;
  db?: string;
  migrate?: boolean;
  config?: string;
  maxInFlight?: string;
  maxQueuedBytes?: string;
  maxQueueWaitMs?: string;
  tokensFile?: string;
  protectProbes?: boolean;
  insecureNoAuth?: boolean;
}

export const registerServe: RegisterCommand = (program, ctx, run) => {
  program
    .command('serve')
    .description('run the dhash HTTP service (JSON request logs on stdout) until SIGTERM or SIGINT')
    .option('--port <port>', `TCP port (default: $DHASH_PORT, else ${DEFAULT_SERVICE_PORT}; 0 picks a free one)`)
    .option('--host <host>', 'address to listen on', DEFAULT_SERVICE_HOST)
    .option(
      '--db <file>',
      'SQLite database file (default: .dhash/dhash.sqlite under the project root); ' +
        `$${DATABASE_URL_ENV}=postgres://… uses PostgreSQL instead (never a flag: the URL holds a password)`,
    )
    .option('--migrate', 'apply pending schema migrations before serving (development shortcut for `dhash migrate`)')
    .option(
      '--config <file>',
      'service config JSON (default: service.json beside the database, if present); ' +
        'its `admission` object sets the limits below',
    )
    .option(
      `${ADMISSION_LIMIT_SPECS.maxInFlight.flag} <n>`,
      'hashing jobs at once ' +
        `(default: $${ADMISSION_LIMIT_SPECS.maxInFlight.envVar}, ` +
        `else the core count, ${DEFAULT_ADMISSION_LIMITS.maxInFlight})`,
    )
    .option(
      `${ADMISSION_LIMIT_SPECS.maxQueuedBytes.flag} <bytes>`,
      'upload bytes held by admitted hashing requests, e.g. ' +
        `64MB (default: $${ADMISSION_LIMIT_SPECS.maxQueuedBytes.envVar}, else 64MB)`,
    )
    .option(
      `${ADMISSION_LIMIT_SPECS.maxQueueWaitMs.flag} <ms>`,
      'longest wait for a hashing slot before 503 EOVERLOADED ' +
        `(default: $${ADMISSION_LIMIT_SPECS.maxQueueWaitMs.envVar}, else ${DEFAULT_ADMISSION_LIMITS.maxQueueWaitMs})`,
    )
    .option(
      '--tokens-file <file>',
      'API tokens, one name:scope:token per line, ' +
        `mode 0600 (default: $${API_TOKENS_FILE_ENV}; also read: $${API_TOKENS_ENV})`,
    )
    .option(
      '--protect-probes',
      `require a read token on /health and /metrics too (default: $${PROTECT_PROBES_ENV}=1, else open)`,
    )
    .option(
      '--insecure-no-auth',
      'listen on a non-loopback --host without any API token (logs a warning; never on a shared network)',
    )
    .action(
      run(async (opts: ServeOptions) => {
        const port = parsePort(
          opts.port ?? ctx.processEnv.DHASH_PORT ?? String(DEFAULT_SERVICE_PORT),
          opts.port === undefined ? 'DHASH_PORT' : '--port',
        );
        const dbFile = opts.db ? resolve(ctx.cwd, opts.db) : join(findProjectRoot(ctx.cwd), '.dhash', 'dhash.sqlite');
        const database = resolveStoreLocation(ctx.processEnv[DATABASE_URL_ENV], opts.db, dbFile);
        const admission = resolveAdmissionLimits({
          flags: {
            maxInFlight: opts.maxInFlight,
            maxQueuedBytes: opts.maxQueuedBytes,
            maxQueueWaitMs: opts.maxQueueWaitMs,
          },
          processEnv: ctx.processEnv,
          config: readServiceConfig(
            opts.config ? resolve(ctx.cwd, opts.config) : join(dirname(dbFile), 'service.json'),
            opts.config !== undefined,
          ),
        });
        const auth = resolveAuth({
          host: opts.host,
          cwd: ctx.cwd,
          flags: {
            tokensFile: opts.tokensFile,
            shouldProtectProbes: opts.protectProbes,
            isInsecureNoAuth: opts.insecureNoAuth,
          },
          processEnv: ctx.processEnv,
        });
        // Tokens from a file are not in the environment the redactor is built from: give it them by value.
        const tokenSecrets = Object.fromEntries(auth.secrets.map((secret, i) => [`DHASH_API_TOKEN_${i}`, secret]));
        const logger = createRequestLogger({
          stream: ctx.stdout,
          redact: createRedactor({ ...ctx.processEnv, ...tokenSecrets, ...getDatabaseSecrets(database) }),
        });
        if (auth.warning) logger.warn(auth.warning);
        const service = await startService({
          host: opts.host,
          port,
          database,
          version: await readServiceVersion(),
          migrate: opts.migrate === true,
          signal: ctx.signal,
          logger,
          admission,
          auth: auth.settings,
        });
        await service.closed;
        return ExitCode.OK;
      }),
    );
};

/**
 * PostgreSQL when DHASH_DATABASE_URL is set (and well formed), else the SQLite file. Both at once is refused: an
 * operator who names a file with --db must not find the service writing to the database in their environment.
 */
function resolveStoreLocation(url: string | undefined, dbFlag: string | undefined, dbFile: string): StoreLocation {
  if (url === undefined || url === '') return { engine: 'sqlite', file: dbFile };
  if (dbFlag !== undefined) {
    throw createError('EINVALIDOPTION', {
      option: '--db',
      expected: `absent when ${DATABASE_URL_ENV} is set (unset it to serve the SQLite file)`,
      actual: dbFlag,
    });
  }
  parsePostgresUrl(url, DATABASE_URL_ENV);
  return { engine: 'postgres', url };
}

/** The PostgreSQL password by value, so the redactor scrubs it even where a driver message shows it bare. */
function getDatabaseSecrets(database: StoreLocation): Record<string, string> {
  if (database.engine !== 'postgres') return {};
  const password = decodeURIComponent(parsePostgresUrl(database.url).password);
  return password ? { DHASH_DATABASE_PASSWORD: password } : {};
}

/** The service config's admission settings; a missing default file is no config, a missing named one is an error. */
function readServiceConfig(file: string, isNamed: boolean): AdmissionSources['config'] {
  if (!existsSync(file)) {
    if (isNamed) throw createError('ECONFIGNOTFOUND', { file });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw createError(
      'EINVALIDCONFIG',
      { file, problems: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }] },
      error,
    );
  }
  const admission = parsed && typeof parsed === 'object' ? (parsed as { admission?: unknown }).admission : undefined;
  return { file, admission };
}

function parsePort(value: string, option: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw createError('EINVALIDOPTION', { option, expected: 'a TCP port from 0 to 65535', actual: value });
  return port;
}
