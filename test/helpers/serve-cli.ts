// Runs long-lived CLI commands (`dhash serve`, `dhash gates serve`) in-process, capturing output, until the test ends.
import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import { runCli } from '../../src/cli/run.js';
import { createSystemClock } from '../../src/lib/clock.js';

export interface ServeRun {
  /** Resolves with the exit code; a refused start resolves without ever listening. */
  exited: Promise<number>;
  readStdout(): string;
  readStderr(): string;
  stop(): Promise<number>;
}

export function runServeCli(
  t: TestContext,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): ServeRun {
  return runLongRunningCli(t, ['serve', ...args], options);
}

/** Runs `argv` until `stop()` or the end of the test (the abort signal a SIGTERM would fire). */
export function runLongRunningCli(
  t: TestContext,
  argv: string[],
  options: { cwd: string; env: Record<string, string> },
): ServeRun {
  const controller = new AbortController();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const exited = runCli(argv, {
    cwd: options.cwd,
    processEnv: options.env,
    stdout,
    stderr,
    clock: createSystemClock(),
    signal: controller.signal,
  });
  const stop = () => {
    controller.abort();
    return exited;
  };
  t.after(stop);
  return { exited, readStdout: () => out, readStderr: () => err, stop };
}

/** The URL from the first `… listening on <url>` line, or the exit code if the command ended first. */
export async function waitForListening(run: ServeRun, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | undefined;
  void run.exited.then((code) => (exitCode = code));
  for (;;) {
    const match = /listening on (http:\/\/[^\s"]+)/.exec(run.readStdout());
    if (match) return match[1];
    if (exitCode !== undefined)
      throw new Error(`the command exited ${exitCode} before listening:\n${run.readStderr()}${run.readStdout()}`);
    if (Date.now() > deadline)
      throw new Error(`the command did not listen within ${timeoutMs} ms:\n${run.readStdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
