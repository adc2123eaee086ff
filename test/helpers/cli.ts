// Runs the CLI in-process with captured output, the way the entry file would, for exit-code and message assertions.
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/run.js';
import { createSystemClock, type Clock } from '../../src/lib/clock.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCliForTest(
  argv: string[],
  options: { cwd: string; processEnv?: Record<string, string | undefined>; clock?: Clock; signal?: AbortSignal },
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const exitCode = await runCli(argv, {
    cwd: options.cwd,
    processEnv: options.processEnv ?? {},
    stdout,
    stderr,
    clock: options.clock ?? createSystemClock(),
    signal: options.signal,
  });
  return { exitCode, stdout: out, stderr: err };
}
