// What every command receives instead of touching `process`: so tests can run the CLI in-process.
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import type { Clock } from '../lib/clock.js';

export interface CliContext {
  cwd: string;
  processEnv: Record<string, string | undefined>;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin?: Readable & { isTTY?: boolean };
  clock: Clock;
  /** Aborted on SIGINT/SIGTERM by the entry file; long-running commands stop cleanly when it fires. */
  signal?: AbortSignal;
}

/** One CLI command module: adds its command(s) to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext, run: RunAction) => void;

/**
 * Wraps an action so its returned exit code (or thrown DhashError) becomes the CLI's exit code.
 * Use it as `.action(run(async (opts) => { ...; return ExitCode.OK; }))`.
 */
export type RunAction = <A extends unknown[]>(
  fn: (...args: A) => Promise<number | void> | number | void,
) => (...args: A) => Promise<void>;
