// `dhash host <sub>`: the host side of a fleet rollout, run on each host from its staged release over ssh. Prints one
// JSON document on stdout for the controller (human text on stderr, or on stdout alone with --text).
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, RegisterCommand } from '../context.js';
import { createCommandLogger } from '../command-logger.js';
import { createSilentLogger } from '../../lib/logger.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { createTargetDriver } from '../../rollout/target/index.js';
import type { ResolvedEnvironment } from '../../rollout/config/environments.js';
import { createErrorAnswer, createResultAnswer } from '../../rollout/host/host-answer.js';
import { HOST_DRIVERS, resolveHostEnvironment, type HostDriverType } from '../../rollout/host/host-environment.js';
import type { HostAnswer, HostCommandName } from '../../rollout/host/host-report.js';
import {
  formatActivation,
  formatHostError,
  formatStatus,
  formatVerify,
} from '../../rollout/host/format-host-report.js';
import { getHostStatus } from '../../rollout/host/host-status.js';
import { chooseRollbackTarget } from '../../rollout/host/choose-rollback-target.js';
import { readReleaseHistory, type HostServiceSettings } from '../../rollout/host/release-history.js';
import { readServiceEnv } from '../../rollout/host/service-env.js';
import { switchHostRelease } from '../../rollout/host/switch-host-release.js';
import { verifyStagedRelease } from '../../rollout/host/verify-staged-release.js';

interface HostOptions {
  root: string;
  envName: string;
  driver?: string;
  bind?: string;
  port?: string;
  healthyChecks: string;
  healthTimeoutMs: string;
  healthIntervalMs: string;
  keep: string;
  text?: boolean;
}

/** What a subcommand hands back: its result, exit code and human lines; the envelope and printing are common. */
type Outcome<T> = { result: T; exitCode: number; lines: string[] };

export const registerHost: RegisterCommand = (program, ctx, run) => {
  const host = program
    .command('host')
    .description('host side of a fleet rollout (run over ssh from the staged release): verify, activate, roll back');
  addCommonOptions(host.command('verify-release'))
    .description("check that <root>/releases/<id> hashes to its release.json's content hash (read-only)")
    .requiredOption('--release <id>', 'the staged release')
    .action(
      run((opts: HostOptions & { release: string }) =>
        answer(ctx, 'verify-release', opts, async () => {
          const { environment } = await resolveReadOnlyHost(ctx, opts);
          const result = await verifyStagedRelease(environment, opts.release);
          return { result, exitCode: 0, lines: formatVerify(result) };
        }),
      ),
    );
  addServiceOptions(addCommonOptions(host.command('activate')))
    .description('lock, switch current to the release, restart, wait for healthy; on failure switch back, verified')
    .requiredOption('--release <id>', 'the staged release to activate')
    .action(
      run((opts: HostOptions & { release: string }) =>
        answer(ctx, 'activate', opts, (redactEnv) =>
          runSwitch(ctx, opts, redactEnv, 'activate', async () => opts.release),
        ),
      ),
    );
  addServiceOptions(addCommonOptions(host.command('rollback')))
    .description('return to the previous release recorded on this host (or --to), restarted and verified healthy')
    .option('--to <id>', 'the release to return to (default: the previous one in state/release-history.json)')
    .action(
      run((opts: HostOptions & { to?: string }) =>
        answer(ctx, 'rollback', opts, (redactEnv) =>
          runSwitch(ctx, opts, redactEnv, 'rollback', (environment) => chooseRollbackTarget(environment, opts.to)),
        ),
      ),
    );
  addServiceOptions(addCommonOptions(host.command('status')))
    .description('current, previous, releases, service, lock holder, journal tail and a health probe (read-only)')
    .option('--lines <n>', 'journal entries to include', '10')
    .action(
      run((opts: HostOptions & { lines: string }) =>
        answer(ctx, 'status', opts, async () => {
          const { environment, service } = await resolveReadOnlyHost(ctx, opts);
          const driver = createTargetDriver(environment, { clock: ctx.clock, logger: createSilentLogger() });
          const result = await getHostStatus(environment, {
            driver,
            clock: ctx.clock,
            journalLines: Math.max(0, Number(opts.lines) || 10),
            // Without a bind address and port (none given, none recorded) there is nothing to probe.
            shouldProbe: service !== undefined,
          });
          return { result, exitCode: 0, lines: formatStatus(result) };
        }),
      ),
    );
};

function addCommonOptions(command: Command): Command {
  return command
    .requiredOption('--root <dir>', 'the environment root on this host (absolute)')
    .option('--env-name <name>', 'the fleet environment (journal ids, lock messages, DHASH_ENV)', 'fleet')
    .option('--text', 'print human text on stdout instead of the JSON answer');
}

function addServiceOptions(command: Command): Command {
  return command
    .option('--driver <type>', `how the service runs: ${HOST_DRIVERS.join(' | ')} (default: the last activation's)`)
    .option('--bind <address>', "the address the service listens on (default: the last activation's)")
    .option('--port <port>', "the service port (default: the last activation's)")
    .option('--healthy-checks <n>', 'consecutive OK health probes required', '3')
    .option('--health-timeout-ms <ms>', 'how long to wait for them', '60000')
    .option('--health-interval-ms <ms>', 'between probes', '1000')
    .option('--keep <n>', 'releases kept on the host (never current nor previous)', '5');
}

async function runSwitch(
  ctx: CliContext,
  opts: HostOptions,
  redactEnv: Record<string, string | undefined>,
  action: 'activate' | 'rollback',
  chooseRelease: (environment: ResolvedEnvironment) => Promise<string>,
): Promise<Outcome<unknown>> {
  const { environment, logger, service, processEnv, close } = await resolveServiceHost(ctx, opts);
  Object.assign(redactEnv, processEnv);
  try {
    const releaseId = await chooseRelease(environment);
    const driver = createTargetDriver(environment, { clock: ctx.clock, logger: logger.child('target'), processEnv });
    const { report, exitCode } = await switchHostRelease({
      environment,
      action,
      releaseId,
      service,
      driver,
      clock: ctx.clock,
      logger,
      signal: ctx.signal,
    });
    return { result: report, exitCode, lines: formatActivation(report) };
  } finally {
    await close();
  }
}

function buildEnvironment(
  opts: HostOptions,
  service: HostServiceSettings,
  processEnv: Record<string, string | undefined>,
): ResolvedEnvironment {
  return resolveHostEnvironment({
    root: opts.root,
    envName: opts.envName,
    ...service,
    healthyChecks: parsePositive('--healthy-checks', opts.healthyChecks ?? '3'),
    healthTimeoutMs: parsePositive('--health-timeout-ms', opts.healthTimeoutMs ?? '60000'),
    healthIntervalMs: parsePositive('--health-interval-ms', opts.healthIntervalMs ?? '1000'),
    keepReleases: Math.max(2, parsePositive('--keep', opts.keep ?? '5')),
    processEnv,
  });
}

/** Settings for reading paths before the service's are known (the root's folders do not depend on them). */
const PATHS_ONLY: HostServiceSettings = { driver: 'process', bind: '127.0.0.1', port: 8787 };

/** For verify-release and status: flags, else the last activation's settings; reads no secrets. */
async function resolveReadOnlyHost(ctx: CliContext, opts: HostOptions) {
  const paths = buildEnvironment(opts, PATHS_ONLY, ctx.processEnv);
  const service = resolveServiceSettings(opts, (await readReleaseHistory(paths)).service, false);
  return { environment: service ? buildEnvironment(opts, service, ctx.processEnv) : paths, service };
}

/**
 * For activate and rollback: the service settings (flags, else the last activation's), the variables of
 * shared/service.env (ESERVICEENVMODE unless 0600) for the service and the probes, and the host log.
 */
async function resolveServiceHost(ctx: CliContext, opts: HostOptions) {
  const paths = buildEnvironment(opts, PATHS_ONLY, ctx.processEnv);
  const service = resolveServiceSettings(opts, (await readReleaseHistory(paths)).service, true)!;
  const serviceEnv = await readServiceEnv(paths);
  const processEnv = { ...ctx.processEnv, ...serviceEnv.vars };
  const environment = buildEnvironment(opts, service, processEnv);
  const commandLogger = createCommandLogger(
    { ...ctx, processEnv },
    { file: join(environment.logsDir, 'host.log'), component: 'host' },
  );
  return { environment, logger: commandLogger.logger, service, processEnv, close: commandLogger.close };
}

function resolveServiceSettings(
  opts: HostOptions,
  recorded: HostServiceSettings | undefined,
  isRequired: boolean,
): HostServiceSettings | undefined {
  const driver = opts.driver ?? recorded?.driver;
  const bind = opts.bind ?? recorded?.bind;
  const port = opts.port !== undefined ? parsePort(opts.port) : recorded?.port;
  if (driver !== undefined && !(HOST_DRIVERS as readonly string[]).includes(driver))
    throw createError('EINVALIDOPTION', { option: '--driver', expected: HOST_DRIVERS.join(' or '), actual: driver });
  if (driver && bind && port) return { driver: driver as HostDriverType, bind, port };
  if (!isRequired) return undefined;
  const missing = !driver ? '--driver' : !bind ? '--bind' : '--port';
  throw createError('EINVALIDOPTION', {
    option: missing,
    expected: 'given (this host has no recorded activation to take it from)',
    actual: undefined,
  });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw createError('EINVALIDOPTION', { option: '--port', expected: 'a port number from 1 to 65535', actual: value });
  return n;
}

function parsePositive(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw createError('EINVALIDOPTION', { option, expected: 'a positive integer', actual: value });
  return n;
}

/** Runs the subcommand and prints its one answer (errors included): the exit code is the answer's. */
async function answer<T>(
  ctx: CliContext,
  command: HostCommandName,
  opts: { text?: boolean },
  fn: (redactEnv: Record<string, string | undefined>) => Promise<Outcome<T>>,
): Promise<number> {
  let doc: HostAnswer<T>;
  let lines: string[];
  // Filled with the service.env variables once read, so their values are scrubbed from the answer too.
  const redactEnv: Record<string, string | undefined> = { ...ctx.processEnv };
  try {
    const outcome = await fn(redactEnv);
    doc = createResultAnswer(command, outcome.result, outcome.exitCode);
    lines = outcome.lines;
  } catch (error) {
    doc = createErrorAnswer(command, error);
    lines = 'error' in doc ? formatHostError(doc.error) : [];
  }
  // The answer is built to carry no secret; every string is scrubbed anyway (an error may quote a URL).
  const redact = createRedactor(redactEnv);
  const text = redact(lines.join('\n')) + '\n';
  if (opts.text) ctx.stdout.write(text);
  else {
    ctx.stdout.write(JSON.stringify(redact.deep(doc)) + '\n');
    ctx.stderr.write(text);
  }
  return doc.exitCode;
}
