// Shows a running pipeline to a human: a listr2 step list on a TTY, plain timestamped lines otherwise.
import type { Writable } from 'node:stream';
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Clock } from '../../lib/clock.js';
import { formatDurationMs } from '../core/duration.js';

/** Receives step events in order; never throws (a broken terminal must not fail a deploy). */
export interface StepDisplay {
  stepStarted(name: string, description: string): void;
  stepSucceeded(name: string, durationMs: number, summary?: string): void;
  stepSkipped(name: string, reason: string): void;
  stepFailed(name: string, durationMs: number, message: string): void;
  /** A line of free text (e.g. a failure hook's result). */
  note(text: string): void;
  /** Flushes the display; resolves once the step list has finished drawing. */
  close(): Promise<void>;
}

export function createStepDisplay(options: {
  stream: Writable & { isTTY?: boolean };
  clock: Clock;
  names?: string[];
}): StepDisplay {
  if (options.stream.isTTY && options.names && options.names.length > 0)
    return createListrDisplay(options.stream, options.names);
  return createPlainDisplay(options.stream, options.clock);
}

/** One line per event: `2026-11-28T01:15:00.123Z ▶ backup:create  Create a verified backup`. */
export function createPlainDisplay(stream: Writable, clock: Clock): StepDisplay {
  const line = (mark: string, text: string) => stream.write(`${new Date(clock.now()).toISOString()} ${mark} ${text}\n`);
  return {
    stepStarted: (name, description) => line('▶', `${name}  ${description}`),
    stepSucceeded: (name, durationMs, summary) =>
      line('✔', `${name}  done in ${formatDurationMs(durationMs)}${summary ? ` — ${summary}` : ''}`),
    stepSkipped: (name, reason) => line('↷', `${name}  skipped: ${reason}`),
    stepFailed: (name, durationMs, message) =>
      line('✖', `${name}  failed after ${formatDurationMs(durationMs)}: ${message}`),
    note: (text) => line('•', text),
    close: async () => {},
  };
}

type Outcome = { kind: 'ok' | 'skip' | 'fail'; title: string };
interface Deferred {
  outcome: Promise<Outcome>;
  /** Settles the task once; later calls are ignored. */
  settle: (outcome: Outcome) => void;
}

/**
 * listr2 runs tasks itself, but our runner owns execution (hooks, dry-run, the report). So each listr task
 * only waits for the runner to settle it: listr draws, the runner decides.
 */
function createListrDisplay(stream: Writable, names: string[]): StepDisplay {
  const waits = new Map<string, Deferred>();
  const notes: string[] = [];
  for (const name of names) {
    let settle!: Deferred['settle'];
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    waits.set(name, { outcome, settle });
  }
  const list = new Listr(
    names.map((name) => ({
      title: name,
      task: async (_ctx: unknown, task: { title: string; skip: (m: string) => void; output: string }) => {
        const outcome = await waits.get(name)!.outcome;
        task.title = outcome.title;
        if (outcome.kind === 'skip') task.skip(outcome.title);
        if (outcome.kind === 'fail') throw new Error(outcome.title);
      },
    })),
    {
      concurrent: false,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: {
        logger: new ListrLogger({
          processOutput: new ProcessOutput(stream as NodeJS.WriteStream, stream as NodeJS.WriteStream),
        }),
        collapseSkips: false,
      },
    },
  );
  const running = list.run().catch(() => undefined);
  const settle = (name: string, kind: 'ok' | 'skip' | 'fail', title: string) =>
    waits.get(name)?.settle({ kind, title });
  return {
    stepStarted: () => {},
    stepSucceeded: (name, durationMs, summary) =>
      settle(name, 'ok', `${name} (${formatDurationMs(durationMs)})${summary ? ` — ${summary}` : ''}`),
    stepSkipped: (name, reason) => settle(name, 'skip', `${name} skipped: ${reason}`),
    stepFailed: (name, durationMs, message) =>
      settle(name, 'fail', `${name} failed after ${formatDurationMs(durationMs)}: ${message}`),
    note: (text) => notes.push(text),
    close: async () => {
      // Steps never reached (after a failure) are shown as skipped so the list completes.
      for (const name of names) settle(name, 'skip', `${name} not run`);
      await running;
      for (const text of notes) stream.write(`• ${text}\n`);
    },
  };
}
