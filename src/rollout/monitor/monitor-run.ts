// The shared shapes of one monitor run (options, result, the run's context) and two small helpers its phases use.
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import type { Clock } from '../../lib/clock.js';
import { ExitCode } from '../../lib/exit-codes.js';
import type { GateTransition, RollbackDecision } from '../core/gate-assessment.js';
import type { DeploySummary } from '../state/journal.js';
import type { Notifier } from '../notify/index.js';
import type { SignalSource } from '../signals/signal-source.js';
import type { Logger } from '../../lib/logger.js';
import type { AutoRollbackDeps, IncidentRequest } from './auto-rollback.js';
import type { PollRecord } from './monitor-log.js';
import type { MonitorOutcome, MonitorStateFile } from './monitor-state.js';

export interface RunMonitorOptions {
  environment: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  isDryRun: boolean;
  isFromNow: boolean;
  /** The deploy to watch (`--deploy`); default: the latest deploy in the journal. */
  deployId?: string;
  /** `--resume`: require a saved window of that deploy and pick it up (the default does so too when one exists). */
  isResume?: boolean;
  signalSource?: SignalSource;
  gates?: ResolvedQualityGates;
  /** The rollback's effects; defaults to the real backup/rollback/incident modules. */
  rollbackDeps?: AutoRollbackDeps;
  signal?: AbortSignal;
  onPoll?: (record: PollRecord) => void;
  /** Human progress lines (the CLI prints them). */
  print?: (line: string) => void;
  /** Per-request timeout of the signal source. */
  timeoutMs?: number;
  /** Environment variables for the rollback (service process, redaction); the CLI passes its context's env. */
  processEnv?: Record<string, string | undefined>;
}

export interface MonitorResult {
  outcome: MonitorOutcome;
  exitCode: number;
  deployId?: string;
  message: string;
}

/** `superseded` is exit 3: the monitor stopped for safety and changed nothing. */
export const EXIT_BY_OUTCOME: Record<MonitorOutcome, number> = {
  'all-clear': ExitCode.OK,
  'window-over': ExitCode.OK,
  'rolled-back': ExitCode.FAILED,
  'rollback-blocked': ExitCode.HUMAN_NEEDED,
  aborted: ExitCode.REFUSED,
  superseded: ExitCode.REFUSED,
};

export type Deliveries = IncidentRequest['deliveries'];

/** Everything one monitor run shares: its options, gates, the deploy it watches and the state it persists. */
export interface MonitorRun {
  o: RunMonitorOptions;
  environment: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  gates: ResolvedQualityGates;
  say: (line: string) => void;
  deploy: DeploySummary | undefined;
  state: MonitorStateFile;
  logs: { jsonl: string; summary: string };
  /** Created at the first poll. */
  source?: SignalSource;
}

/** Why this monitor must not act any more: who took over (when known) and what it saw. */
export interface Supersede {
  by?: string;
  reason: string;
}

export interface PollOutcome {
  atMs: number;
  transitions: GateTransition[];
  decision: RollbackDecision;
  supersede?: Supersede;
}

/** `current` as a release id, or undefined when nothing is deployed. */
export async function readServingRelease(environment: ResolvedEnvironment): Promise<string | undefined> {
  return readlink(environment.currentLink).then(
    (t) => basename(t),
    () => undefined,
  );
}

export const round = (n: number) => Math.round(n * 100) / 100;
