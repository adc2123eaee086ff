// Starts `dhash monitor --env E --deploy ID` as its own process: detached (it outlives quick-deploy) or attached
// (--follow).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, createWriteStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { formatDurationMs } from '../core/duration.js';
import { isProcessRunning } from './monitor-health.js';
import { readMonitorLockHolder } from './monitor-lock.js';
import { readMonitorState } from './monitor-state.js';
import {
  getMonitorEnvFile,
  getMonitorEnvVars,
  getMonitorUnitName,
  getSystemdRunArgs,
  removeStaleMonitorEnvFiles,
} from './monitor-unit.js';
import { runCommand, type CommandRunner } from '../target/systemd/systemd-driver.js';
import { writeEnvironmentFile } from '../target/systemd/environment-file.js';

export interface MonitorLaunch {
  pid: number;
  logFile: string;
  /** How an operator follows it from another terminal. */
  followCommands: string[];
}

export interface LaunchMonitorInput {
  projectRoot: string;
  envName: string;
  deployId: string;
  logsDir: string;
  processEnv: Record<string, string | undefined>;
}

/** A detached launch also waits for the monitor to be ready, and on a systemd target runs it as a unit. */
export interface DetachedMonitorInput extends LaunchMonitorInput {
  environment: ResolvedEnvironment;
  clock: Clock;
  timeoutMs?: number;
  run?: CommandRunner;
}

/** How long a detached monitor may take to hold its lock and write its first state before monitor:start fails. */
export const MONITOR_READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

export function getMonitorLogFile(logsDir: string, deployId: string): string {
  return join(logsDir, `monitor-${deployId}.log`);
}

function getMonitorCommand(input: LaunchMonitorInput): { command: string; args: string[] } {
  // The checkout's toolkit runs the monitor, never the release under watch: a bad release must not judge itself.
  // process.execPath is read (not changed): the same Node that runs this command runs the monitor.
  const main = join(input.projectRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw createError('EDISTMISSING', { projectRoot: input.projectRoot });
  return { command: process.execPath, args: [main, 'monitor', '--env', input.envName, '--deploy', input.deployId] };
}

/** EMONITORNOTSTARTED for this launch: every reason a monitor did not start points at its log file. */
function createNotStartedError(input: LaunchMonitorInput, logFile: string, reason: string): Error {
  return createError('EMONITORNOTSTARTED', { env: input.envName, deployId: input.deployId, reason, logFile });
}

function getFollowCommands(input: LaunchMonitorInput, logFile: string): string[] {
  return [`tail -f ${logFile}`, `npx dhash status --env ${input.envName}`];
}

/**
 * Detached, its own session, output to the log file; unref'd so quick-deploy can exit while it runs. Resolves only once
 * the child holds monitor.lock and has written its first state for this deploy; else EMONITORNOTSTARTED naming why.
 */
export async function launchDetachedMonitor(input: DetachedMonitorInput): Promise<MonitorLaunch> {
  if (input.environment.config.target.type === 'systemd') return launchSystemdMonitor(input);
  const { command, args } = getMonitorCommand(input);
  mkdirSync(input.logsDir, { recursive: true });
  const logFile = getMonitorLogFile(input.logsDir, input.deployId);
  const fd = openSync(logFile, 'a');
  const logOffset = statSync(logFile).size;
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: input.projectRoot,
      env: input.processEnv,
      detached: true,
      stdio: ['ignore', fd, fd],
      windowsHide: true,
    });
  } finally {
    closeSync(fd);
  }
  const notStarted = (reason: string) => createNotStartedError(input, logFile, reason);
  if (child.pid === undefined) throw notStarted(`could not start ${args.join(' ')}`);
  const exit: { code?: number | null; signal?: NodeJS.Signals | null } = {};
  child.once('exit', (code, signal) => Object.assign(exit, { code, signal }));
  child.unref();
  await waitForMonitorReady({ ...input, pid: child.pid, exit, logFile, logOffset, notStarted }).catch(
    (error: unknown) => {
      // A monitor that missed its deadline is stopped: quick-deploy must not report a failure while a monitor runs
      // anyway.
      if (exit.code === undefined) child.kill('SIGTERM');
      throw error;
    },
  );
  return { pid: child.pid, logFile, followCommands: getFollowCommands(input, logFile) };
}

/**
 * On a systemd target: a transient unit (`systemd-run`, restart on failure) so the monitor survives a crash, not only
 * quick-deploy's exit. Ready once a live pid holds monitor.lock and wrote this deploy's state (the unit's main pid).
 */
async function launchSystemdMonitor(input: DetachedMonitorInput): Promise<MonitorLaunch> {
  const run = input.run ?? runCommand;
  const { command, args } = getMonitorCommand(input);
  mkdirSync(input.logsDir, { recursive: true });
  const logFile = getMonitorLogFile(input.logsDir, input.deployId);
  const unit = getMonitorUnitName(input.envName);
  const target = input.environment.config.target as { user?: string };
  const notStarted = (reason: string) => createNotStartedError(input, logFile, reason);
  // A unit of the same name left failed by an earlier monitor would make systemd-run refuse the name.
  await run('systemctl', ['reset-failed', unit], 10_000);
  const environmentFile = getMonitorEnvFile(input.environment, input.deployId);
  await removeStaleMonitorEnvFiles(input.environment, input.deployId);
  try {
    const vars = getMonitorEnvVars(input.environment, input.processEnv);
    await writeEnvironmentFile(environmentFile, vars, 'quick-deploy, for the monitor unit');
  } catch (error) {
    // ESERVICEENVINVALID lists each problem by variable name (never its value): which one to fix.
    const problems = isDhashError(error, 'ESERVICEENVINVALID')
      ? error.details
          .split('\n')
          .filter((l) => l.startsWith('  - '))
          .map((l) => l.slice(4))
      : [(error as Error).message.replace(/\.$/, '')];
    throw notStarted(`its environment file ${environmentFile} could not be written (${problems.join('; ')})`);
  }
  const unitInput = {
    envName: input.envName,
    deployId: input.deployId,
    nodePath: command,
    mainJs: args[0],
    projectRoot: input.projectRoot,
    logFile,
    user: target.user,
    environmentFile,
  };
  const started = await run('systemd-run', getSystemdRunArgs(unitInput), 30_000);
  if (started.code !== 0)
    throw notStarted(
      `systemd-run exited ${started.code}: ${(started.stderr.trim() || started.stdout.trim()).replace(/\.$/, '')}`,
    );
  const deadlineMs = input.clock.now() + (input.timeoutMs ?? MONITOR_READY_TIMEOUT_MS);
  for (;;) {
    const [holder, state] = await Promise.all([
      readMonitorLockHolder(input.environment),
      readMonitorState(input.environment),
    ]);
    if (
      holder &&
      isProcessRunning(holder.pid) &&
      state?.deployId === input.deployId &&
      state.pid === holder.pid &&
      !state.outcome
    ) {
      return {
        pid: holder.pid,
        logFile,
        followCommands: [`journalctl -u ${unit} -f`, `tail -f ${logFile}`, `npx dhash status --env ${input.envName}`],
      };
    }
    if (input.clock.now() >= deadlineMs) {
      const said = await readLastLine(logFile, 0);
      throw notStarted(
        `unit ${unit} did not take monitor.lock and write this deploy's state in time${said ? ` (${said})` : ''}; ` +
          `see \`systemctl status ${unit}\``,
      );
    }
    await input.clock.sleep(READY_POLL_MS);
  }
}

/**
 * Polls monitor.lock and monitor-state.json until both name the child (and the state this deploy), the child exits, or
 * the deadline.
 */
async function waitForMonitorReady(input: {
  environment: ResolvedEnvironment;
  clock: Clock;
  timeoutMs?: number;
  deployId: string;
  pid: number;
  logFile: string;
  logOffset: number;
  exit: { code?: number | null; signal?: NodeJS.Signals | null };
  notStarted: (reason: string) => Error;
}): Promise<void> {
  const { environment, clock, pid } = input;
  const timeoutMs = input.timeoutMs ?? MONITOR_READY_TIMEOUT_MS;
  const deadlineMs = clock.now() + timeoutMs;
  // The pid can be gone a moment before Node delivers the child's 'exit' event; wait that long to report its code.
  let exitEventWaitsLeft = 20;
  for (;;) {
    const [holder, state] = await Promise.all([readMonitorLockHolder(environment), readMonitorState(environment)]);
    if (holder?.pid === pid && state?.deployId === input.deployId && state.pid === pid && !state.outcome) return;
    const isGone = input.exit.code !== undefined || !isProcessRunning(pid);
    if (isGone && input.exit.code === undefined && exitEventWaitsLeft-- > 0) {
      await clock.sleep(50);
      continue;
    }
    if (isGone) {
      const how = input.exit.signal
        ? `it was killed by ${input.exit.signal}`
        : `it exited with code ${input.exit.code ?? 'unknown'}`;
      const said = await readLastLine(input.logFile, input.logOffset);
      throw input.notStarted(`${how}${said ? ` (${said})` : ''}`);
    }
    if (clock.now() >= deadlineMs) {
      const why =
        holder?.pid === pid
          ? 'it holds its lock but wrote no state for this deploy'
          : holder
            ? `pid ${holder.pid} holds monitor.lock`
            : 'it did not take monitor.lock';
      throw input.notStarted(`${why} within ${formatDurationMs(timeoutMs)}`);
    }
    await clock.sleep(READY_POLL_MS);
  }
}

/** The child's last non-empty output line (its coded error, usually), from where this launch began. */
async function readLastLine(file: string, fromOffset: number): Promise<string | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(fromOffset, size - 4096);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      const lines = buffer
        .toString('utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      // The coded error's message is the `dhash: …` line; its details follow it.
      return (
        [...lines].reverse().find((l) => l.startsWith('dhash: ') && !l.startsWith('dhash: WARNING:')) ??
        lines[lines.length - 1]
      );
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** Attached: the monitor's output goes both to `out` and to the log file; resolves with its exit code. */
export async function runAttachedMonitor(
  input: LaunchMonitorInput & { out: Writable; signal?: AbortSignal; onStart?: (launch: MonitorLaunch) => void },
): Promise<{ exitCode: number; launch: MonitorLaunch }> {
  const { command, args } = getMonitorCommand(input);
  mkdirSync(input.logsDir, { recursive: true });
  const logFile = getMonitorLogFile(input.logsDir, input.deployId);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd: input.projectRoot,
    env: input.processEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const launch: MonitorLaunch = { pid: child.pid ?? -1, logFile, followCommands: getFollowCommands(input, logFile) };
  input.onStart?.(launch);
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      input.out.write(chunk);
    });
  }
  // Ctrl-C of quick-deploy stops the monitor cleanly (SIGTERM: it saves its state and can be resumed).
  const onAbort = () => child.kill('SIGTERM');
  input.signal?.addEventListener('abort', onAbort, { once: true });
  const exitCode = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  input.signal?.removeEventListener('abort', onAbort);
  await new Promise<void>((resolve) => log.end(resolve));
  return { exitCode, launch };
}
