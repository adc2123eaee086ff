// Runs named deploy/rollback steps: journals, logs and times each one, so every step is recorded the same way.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { appendJournal, type JournalKind } from '../state/journal.js';

export interface TimelineEntry {
  time: string;
  step: string;
  status: 'started' | 'succeeded' | 'failed' | 'skipped';
  detail?: string;
  durationMs?: number;
}

export interface StepRunner {
  timeline: TimelineEntry[];
  /** Runs `fn` as step `name`; its string result is the detail. Rethrows the original error after recording it. */
  run<T>(name: string, fn: () => Promise<T>, describe?: (value: T) => string): Promise<T>;
  /** Records a step that is not a function call (deploy:finish); a journal write that fails is logged, not thrown. */
  record(
    name: string,
    status: TimelineEntry['status'],
    detail?: string,
    extra?: Record<string, unknown>,
  ): Promise<void>;
  /**
   * Records the opening step (deploy:start) and throws if the journal cannot take it (ENOSPACE on a full disk):
   * the monitor and `dhash status` find a deploy only through that entry, so nothing may change without it.
   */
  begin(name: string, detail: string, extra?: Record<string, unknown>): Promise<void>;
}

export function createStepRunner(input: {
  environment: ResolvedEnvironment;
  deployId: string;
  kind: JournalKind;
  clock: Clock;
  logger: Logger;
  onProgress?: (line: string) => void;
}): StepRunner {
  const timeline: TimelineEntry[] = [];
  const writeEntry = async (
    step: string,
    status: TimelineEntry['status'],
    detail?: string,
    extra?: Record<string, unknown>,
    isRequired = false,
  ) => {
    const time = new Date(input.clock.now()).toISOString();
    if (status !== 'skipped') {
      await appendJournal(input.environment, {
        time,
        deployId: input.deployId,
        kind: input.kind,
        step,
        status,
        ...(detail ? { detail } : {}),
        ...extra,
      }).catch((error) => {
        input.logger.error('could not append to the deploy journal', { step, error });
        if (isRequired) throw error;
      });
    }
    timeline.push({ time, step, status, ...(detail ? { detail } : {}) });
  };
  const record: StepRunner['record'] = async (step, status, detail, extra) => {
    await writeEntry(step, status, detail, extra);
    const log = status === 'failed' ? input.logger.error : input.logger.info;
    log(`${step} ${status}${detail ? `: ${detail}` : ''}`, { step, status, deployId: input.deployId });
    if (status !== 'started')
      input.onProgress?.(
        `  ${status === 'failed' ? '✗' : status === 'skipped' ? '-' : '✓'} ${step}${detail ? `  ${detail}` : ''}`,
      );
  };
  return {
    timeline,
    record,
    async begin(name, detail, extra) {
      await writeEntry(name, 'started', detail, extra, true);
      input.logger.info(`${name} started: ${detail}`, { step: name, status: 'started', deployId: input.deployId });
    },
    async run(name, fn, describe) {
      const startedAt = input.clock.now();
      await record(name, 'started');
      try {
        const value = await fn();
        const detail = describe ? describe(value) : typeof value === 'string' ? value : undefined;
        await record(
          name,
          'succeeded',
          detail ? `${detail} (${input.clock.now() - startedAt} ms)` : `${input.clock.now() - startedAt} ms`,
        );
        return value;
      } catch (error) {
        await record(name, 'failed', (error as Error).message);
        throw error;
      }
    },
  };
}
