// The one generic runner: executes a resolved pipeline in order, logging and displaying every step by name.
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { resolvePipeline } from './resolve-pipeline.js';
import type { StepDisplay } from './step-display.js';
import type { Hook, HookInfo, PipelineDefinition, PipelineReport, StepOutcome, StepRecord } from './types.js';
import { createPipelineReport } from './types.js';

export interface RunPipelineOptions {
  clock: Clock;
  logger: Logger;
  isDryRun?: boolean;
  display?: StepDisplay;
  /** Filled in as the run goes, so a caller can summarise a failed run too. */
  report?: PipelineReport;
}

/**
 * Runs every step and before/after hook in order. A failing required step (or hook) stops the run: the
 * `failed` hooks run (each error inside one is logged and swallowed), then the ORIGINAL error is rethrown.
 * A failing optional step is logged as a warning and the run continues. On success the `succeeded` hooks run.
 */
export async function runPipeline<C>(
  definition: PipelineDefinition<C>,
  context: C,
  options: RunPipelineOptions,
): Promise<PipelineReport> {
  const resolved = resolvePipeline(definition);
  const { clock, display } = options;
  const logger = options.logger.child('pipeline');
  const report = options.report ?? createPipelineReport(definition.name);
  report.status = 'running';
  report.startedAt = clock.now();
  const info = (): HookInfo => ({ durationMs: clock.now() - report.startedAt!, report });
  logger.info('pipeline started', {
    pipeline: definition.name,
    dryRun: options.isDryRun === true,
    steps: resolved.entries.map((e) => e.name),
  });

  for (const entry of resolved.entries) {
    const record: StepRecord = { name: entry.name, kind: entry.kind, status: 'pending' };
    report.records.push(record);
    if (options.isDryRun && !entry.runsInDryRun) {
      finishRecord(record, clock, 'skipped', 'dry-run: this step changes things');
      logger.info('step skipped', { step: entry.name, reason: record.detail });
      display?.stepSkipped(entry.name, record.detail!);
      continue;
    }
    try {
      await runUnit(entry.name, entry.description, record, { clock, logger, display }, () =>
        entry.kind === 'step' ? entry.step.run(context) : entry.hook.run(context, info()),
      );
    } catch (error) {
      if (!entry.isRequired) {
        logger.warn('optional step failed; continuing', { step: entry.name, error });
        continue;
      }
      report.status = 'failed';
      report.failedStep = entry.name;
      await runSettlingHooks(
        resolved.failedHooks,
        context,
        { ...info(), failedStep: entry.name, error },
        { clock, logger, display, report, isDryRun: options.isDryRun },
      );
      finishReport(report, clock);
      logger.error('pipeline failed', { pipeline: definition.name, step: entry.name, durationMs: report.durationMs });
      throw error;
    }
  }
  report.status = 'succeeded';
  await runSettlingHooks(resolved.succeededHooks, context, info(), {
    clock,
    logger,
    display,
    report,
    isDryRun: options.isDryRun,
  });
  finishReport(report, clock);
  logger.info('pipeline succeeded', { pipeline: definition.name, durationMs: report.durationMs });
  return report;
}

type UnitDeps = { clock: Clock; logger: Logger; display?: StepDisplay };

async function runUnit(
  name: string,
  description: string,
  record: StepRecord,
  deps: UnitDeps,
  run: () => Promise<StepOutcome | void>,
): Promise<void> {
  record.status = 'running';
  record.startedAt = deps.clock.now();
  deps.logger.info('step started', { step: name });
  deps.display?.stepStarted(name, description);
  try {
    const outcome = await run();
    if (outcome?.status === 'skipped') {
      finishRecord(record, deps.clock, 'skipped', outcome.reason);
      deps.logger.info('step skipped', { step: name, reason: outcome.reason, durationMs: record.durationMs });
      deps.display?.stepSkipped(name, outcome.reason);
      return;
    }
    const summary = outcome?.status === 'succeeded' ? outcome.summary : undefined;
    finishRecord(record, deps.clock, 'succeeded', undefined, summary);
    deps.logger.info('step succeeded', { step: name, durationMs: record.durationMs, ...(summary ? { summary } : {}) });
    deps.display?.stepSucceeded(name, record.durationMs!, summary);
  } catch (error) {
    finishRecord(record, deps.clock, 'failed', describeError(error));
    deps.logger.error('step failed', { step: name, durationMs: record.durationMs, error });
    deps.display?.stepFailed(name, record.durationMs!, record.detail!);
    throw error;
  }
}

/** Succeeded/failed hooks: each runs even when an earlier one failed; their errors are logged, never thrown. */
async function runSettlingHooks<C>(
  hooks: Hook<C>[],
  context: C,
  info: HookInfo,
  deps: UnitDeps & { report: PipelineReport; isDryRun?: boolean },
): Promise<void> {
  for (const hook of hooks) {
    const record: StepRecord = { name: hook.name, kind: 'hook', status: 'pending' };
    deps.report.records.push(record);
    if (deps.isDryRun && !hook.runsInDryRun) {
      finishRecord(record, deps.clock, 'skipped', 'dry-run: this hook changes things');
      continue;
    }
    try {
      await runUnit(hook.name, hook.description, record, deps, () => hook.run(context, info));
    } catch (error) {
      deps.logger.error('hook failed; the original outcome stands', { hook: hook.name, error });
      deps.display?.note(`hook ${hook.name} failed: ${describeError(error)} (the original outcome stands)`);
    }
  }
}

function finishRecord(
  record: StepRecord,
  clock: Clock,
  status: StepRecord['status'],
  detail?: string,
  summary?: string,
): void {
  record.status = status;
  record.finishedAt = clock.now();
  record.startedAt ??= record.finishedAt;
  record.durationMs = record.finishedAt - record.startedAt;
  if (detail !== undefined) record.detail = detail;
  if (summary !== undefined) record.summary = summary;
}

function finishReport(report: PipelineReport, clock: Clock): void {
  report.finishedAt = clock.now();
  report.durationMs = report.finishedAt - (report.startedAt ?? report.finishedAt);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
