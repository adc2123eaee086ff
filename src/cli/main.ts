#!/usr/bin/env node
// The `dhash` executable: the only file that touches `process` (argv, env, streams, signals, exit).
import { runCli } from './run.js';
import { createSystemClock } from '../rollout/core/clock.js';

// A reader that closes the pipe early (`dhash gates explain | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort(new Error(`received ${signal}`)));
}

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  clock: createSystemClock(),
  signal: controller.signal,
});
process.exitCode = code;
// Long-running commands (serve, monitor) keep the loop alive themselves; short ones must not hang on stray handles.
if (!process.env.DHASH_NO_FORCE_EXIT) setTimeout(() => process.exit(code), 50).unref();
