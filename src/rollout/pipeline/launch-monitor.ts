// Starts `dhash monitor --env E` as its own process: detached (it outlives quick-deploy) or attached (--follow).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createError } from '../core/errors.js';

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

export function getMonitorLogFile(logsDir: string, deployId: string): string {
  return join(logsDir, `monitor-${deployId}.log`);
}

function getMonitorCommand(input: LaunchMonitorInput): { command: string; args: string[] } {
  // The checkout's toolkit runs the monitor, never the release under watch: a bad release must not judge itself.
  // process.execPath is read (not changed): the same Node that runs this command runs the monitor.
  const main = join(input.projectRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw createError('EDISTMISSING', { projectRoot: input.projectRoot });
  return { command: process.execPath, args: [main, 'monitor', '--env', input.envName] };
}

/** Detached, its own session, output to the log file; unref'd so quick-deploy can exit while it runs. */
export function launchDetachedMonitor(input: LaunchMonitorInput): MonitorLaunch {
  const { command, args } = getMonitorCommand(input);
  mkdirSync(input.logsDir, { recursive: true });
  const logFile = getMonitorLogFile(input.logsDir, input.deployId);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: input.projectRoot, env: input.processEnv, detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
    if (child.pid === undefined) throw new Error(`could not start ${args.join(' ')}`);
    child.unref();
    return { pid: child.pid, logFile, followCommands: [`tail -f ${logFile}`, `npx dhash status --env ${input.envName}`] };
  } finally {
    closeSync(fd);
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
  const child = spawn(command, args, { cwd: input.projectRoot, env: input.processEnv, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const launch: MonitorLaunch = { pid: child.pid ?? -1, logFile, followCommands: [`tail -f ${logFile}`, `npx dhash status --env ${input.envName}`] };
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
