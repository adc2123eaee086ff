// The controller's wrapper around the operator's OpenSSH client: run a command on a fleet host, copy a file to it.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createError, isDhashError, type DhashError } from '../../../lib/errors.js';
import { createSystemClock, type Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { FleetHostConfig } from '../../config/environments-schema.js';
import { buildSshArgs, type SshSettings } from './ssh-args.js';
import { copyFileOverSsh, type SshCopyResult } from './ssh-copy-file.js';
import { classifySshFailure, SSH_FAILURE_EXIT_CODE } from './ssh-errors.js';
import { quoteShellCommand } from './shell-quote.js';

export type { SshSettings } from './ssh-args.js';
export type { SshCopyResult } from './ssh-copy-file.js';

export interface SshRunOptions {
  /** Sent to the remote command's stdin, then closed; never logged (it may hold a secret). */
  stdin?: string | Buffer | Readable;
  /** Stops the local ssh after this long (ESSHCOMMANDTIMEOUT); connecting is bounded by connectTimeoutSeconds. */
  timeoutMs?: number;
}

export interface SshRunResult {
  /** The remote command's exit code. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SshCheckResult {
  isOk: boolean;
  detail: string;
  /** Why not, when not: EHOSTKEYCHANGED, EHOSTKEYUNKNOWN, EHOSTUNREACHABLE, ESSHAUTHFAILED, … */
  error?: DhashError;
}

export interface SshClient {
  readonly host: FleetHostConfig;
  /**
   * Runs argv on the host (quoted for its shell) and returns the remote exit code, whatever it is. Throws a coded
   * error when ssh itself failed (host key, unreachable, auth, connection lost) or the timeout passed.
   */
  run(argv: readonly string[], options?: SshRunOptions): Promise<SshRunResult>;
  /** The same, and a non-zero remote exit throws ESSHCOMMANDFAILED naming the host and the command. */
  runChecked(argv: readonly string[], options?: SshRunOptions): Promise<SshRunResult>;
  /**
   * Streams a local file to `remotePath` through ssh's stdin: into a temp name beside it, size and sha256 checked,
   * fsynced, then renamed, so the final name never holds a partial file. Idempotent; throws ESSHCOPYFAILED.
   */
  copyFile(localPath: string, remotePath: string, options?: { mode?: number }): Promise<SshCopyResult>;
  /** Connects and runs `true`; never throws: a failure comes back as isOk false with the coded error. */
  check(): Promise<SshCheckResult>;
}

export interface SshClientOptions {
  logger: Logger;
  /** Times each command for the log; default the system clock. */
  clock?: Clock;
  /** The ssh binary; default `ssh` from PATH (the operator's OpenSSH). */
  sshBinary?: string;
  /** ssh's environment (SSH_AUTH_SOCK reaches the agent); default: this process's. */
  processEnv?: Record<string, string | undefined>;
}

/** Longest command text put into errors and logs. */
const MAX_COMMAND_CHARS = 200;
/** Grace between SIGTERM and SIGKILL when a timeout stops ssh. */
const KILL_GRACE_MS = 2000;

export function createSshClient(host: FleetHostConfig, settings: SshSettings, options: SshClientOptions): SshClient {
  const logger = options.logger.child('ssh');
  const clock = options.clock ?? createSystemClock();
  const run = async (argv: readonly string[], runOptions: SshRunOptions = {}): Promise<SshRunResult> => {
    const command = describeCommand(argv);
    const startedAt = clock.now();
    const raw = await spawnSsh(options, buildSshArgs(host, settings, argv), runOptions);
    const fields = { host: host.name, command, durationMs: clock.now() - startedAt, exitCode: raw.exitCode };
    if (raw.isTimedOut) {
      logger.warn('ssh command timed out', fields);
      throw createError('ESSHCOMMANDTIMEOUT', { host: host.name, command, timeoutMs: runOptions.timeoutMs ?? 0 });
    }
    if (raw.exitCode === SSH_FAILURE_EXIT_CODE) {
      const error = classifySshFailure(raw.stderr, { host, settings, command });
      if (error) {
        logger.warn('ssh failed', { ...fields, code: error.code });
        throw error;
      }
    }
    logger.debug('ssh command finished', fields);
    return { exitCode: raw.exitCode, stdout: raw.stdout, stderr: raw.stderr };
  };
  const runChecked = async (argv: readonly string[], runOptions?: SshRunOptions): Promise<SshRunResult> => {
    const result = await run(argv, runOptions);
    if (result.exitCode !== 0) {
      throw createError('ESSHCOMMANDFAILED', {
        host: host.name,
        command: describeCommand(argv),
        exitCode: result.exitCode,
        stderr: result.stderr.trim().slice(-500),
      });
    }
    return result;
  };
  return {
    host,
    run,
    runChecked,
    copyFile: (localPath, remotePath, copyOptions) =>
      copyFileOverSsh({ run, hostName: host.name, localPath, remotePath, mode: copyOptions?.mode }),
    check: () => checkHost(run, host, clock),
  };
}

function describeCommand(argv: readonly string[]): string {
  const text = quoteShellCommand(argv);
  return text.length > MAX_COMMAND_CHARS ? `${text.slice(0, MAX_COMMAND_CHARS)}…` : text;
}

/** Spawns ssh (no local shell), feeds stdin, collects output; kills it on timeout. Rejects only when ssh is missing. */
function spawnSsh(
  options: SshClientOptions,
  args: string[],
  runOptions: SshRunOptions,
): Promise<{ exitCode: number; stdout: string; stderr: string; isTimedOut: boolean }> {
  const binary = options.sshBinary ?? 'ssh';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: options.processEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let isTimedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      runOptions.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            isTimedOut = true;
            child.kill('SIGTERM');
            killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          }, runOptions.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A remote command that exits without reading all its stdin closes the pipe: its exit code says what happened.
    child.stdin.on('error', () => {});
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? createError('ESSHNOTINSTALLED', { binary }, error) : error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (runOptions.stdin && typeof runOptions.stdin === 'object' && 'destroy' in runOptions.stdin) {
        runOptions.stdin.destroy();
      }
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        isTimedOut,
      });
    });
    const input = runOptions.stdin;
    if (input === undefined || typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input ?? '');
    else input.on('error', () => child.kill('SIGTERM')).pipe(child.stdin);
  });
}

async function checkHost(run: SshClient['run'], host: FleetHostConfig, clock: Clock): Promise<SshCheckResult> {
  const startedAt = clock.now();
  try {
    const result = await run(['true']);
    const where = `${host.user ? `${host.user}@` : ''}${host.address}:${host.port}`;
    if (result.exitCode === 0) return { isOk: true, detail: `ssh ${where} answered in ${clock.now() - startedAt} ms` };
    return { isOk: false, detail: `ssh ${where}: \`true\` exited ${result.exitCode}: ${result.stderr.trim()}` };
  } catch (error) {
    if (!isDhashError(error)) throw error;
    return { isOk: false, detail: error.message, error };
  }
}
