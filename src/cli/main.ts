#!/usr/bin/env node
// The `dhash` executable: the only file that touches `process` (argv, env, streams, signals, exit).
import { runCli } from './run.js';
import { createSystemClock } from '../lib/clock.js';
import { createInterrupts } from '../rollout/deploy/safety-path.js';

// A reader that closes the pipe early (`dhash gates explain | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Every signal is counted, not only the first: the first stops forward progress (the signal aborts), a second within
// 5 s abandons a running switch-back or rollback (src/rollout/safety-path.ts). `on`, not `once`: a second Ctrl-C must
// not kill the process with Node's default handler in the middle of the safety path.
const clock = createSystemClock();
const { interrupts, fire } = createInterrupts(clock);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => fire(signal));
}

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  processEnv: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  clock,
  signal: interrupts.signal,
});
process.exitCode = code;
// Long-running commands (serve, monitor) keep the loop alive themselves; short ones must not hang on stray handles.
if (!process.env.DHASH_NO_FORCE_EXIT) setTimeout(() => process.exit(code), 50).unref();
