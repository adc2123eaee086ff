// Runs one real command with its stdout and stderr captured, as they arrive, into a log file (and optionally echoed).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';

export interface LoggedCommand {
  command: string;
  args: string[];
  cwd: string;
  processEnv: Record<string, string | undefined>;
  logFile: string;
  echo?: Writable;
  timeoutMs?: number;
}

/** Resolves with the exit code (a signal or a spawn error counts as 1); never throws for a failing command. */
export async function runLoggedCommand(c: LoggedCommand): Promise<number> {
  mkdirSync(dirname(c.logFile), { recursive: true });
  const log = createWriteStream(c.logFile, { flags: 'a' });
  log.write(`$ ${[c.command, ...c.args].join(' ')}\n`);
  const child = spawn(c.command, c.args, {
    cwd: c.cwd,
    env: c.processEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    c.echo?.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = c.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), c.timeoutMs) : undefined;
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      log.write(`spawn failed: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (exitCode) => resolve(exitCode ?? 1));
  });
  if (timer) clearTimeout(timer);
  log.write(`[exit ${code}]\n`);
  await new Promise<void>((resolve) => log.end(resolve));
  return code;
}
