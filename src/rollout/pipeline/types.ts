// The pipeline as data: named steps with flags, hooks attached by step name, and the record of a run.

/** One named unit of work, e.g. `backup:create`. The name is used verbatim in logs, notifications and incidents. */
export interface Step<C> {
  /** `area:action`, unique within a pipeline. */
  name: string;
  /** One line: what the step does. */
  description: string;
  /** A failing required step stops the pipeline; an optional one is logged as a warning and the pipeline goes on. */
  isRequired: boolean;
  /** Whether the step runs under --dry-run (it must then change nothing); otherwise it is skipped with a reason. */
  runsInDryRun: boolean;
  /** Does the work, reading and writing the shared context. May throw; may return a one-line summary or a skip. */
  run(context: C): Promise<StepOutcome | void>;
}

/** What a step reports when it ends without throwing. */
export type StepOutcome = { status: 'succeeded'; summary?: string } | { status: 'skipped'; reason: string };

/** Where a hook runs: before or after a named step, after the whole pipeline succeeded, or after it failed. */
export type HookPlacement =
  { on: 'before'; step: string } | { on: 'after'; step: string } | { on: 'succeeded' } | { on: 'failed' };

export interface HookInfo {
  /** The step that failed (failed hooks only). */
  failedStep?: string;
  /** The original error (failed hooks only). */
  error?: unknown;
  /** Time since the pipeline started. */
  durationMs: number;
  report: PipelineReport;
}

/**
 * Extra work attached to the pipeline. A before/after hook behaves like a required step (its failure fails the
 * pipeline). A succeeded or failed hook never changes the outcome: its error is logged and swallowed.
 */
export interface Hook<C> {
  name: string;
  description: string;
  placement: HookPlacement;
  runsInDryRun: boolean;
  run(context: C, info: HookInfo): Promise<StepOutcome | void>;
}

export interface PipelineDefinition<C> {
  /** e.g. `quick-deploy`. */
  name: string;
  steps: Step<C>[];
  hooks: Hook<C>[];
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed';

export interface StepRecord {
  name: string;
  kind: 'step' | 'hook';
  status: StepStatus;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  summary?: string;
  /** Reason for a skip, or the error message of a failure. */
  detail?: string;
}

/** Filled in as the pipeline runs, so the caller can print a summary even when the run throws. */
export interface PipelineReport {
  pipeline: string;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  failedStep?: string;
  records: StepRecord[];
}

export function createPipelineReport(pipeline: string): PipelineReport {
  return { pipeline, status: 'pending', records: [] };
}
