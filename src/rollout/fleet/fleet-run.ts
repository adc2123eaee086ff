// The shared shapes of one fleet rollout (options, result, the run's context) and the small helpers its phases use.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { FleetHostConfig } from '../config/environments-schema.js';
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import type { Clock } from '../../lib/clock.js';
import type { ExitCodeValue } from '../../lib/exit-codes.js';
import type { Logger } from '../../lib/logger.js';
import type { Redactor } from '../../lib/redact.js';
import type { RollbackStrategyChoice } from '../core/rollback-strategy.js';
import type { StepRunner, TimelineEntry } from '../deploy/step-runner.js';
import type { Notifier } from '../notify/index.js';
import type { FleetHostOps, StageArtifact } from '../target/ssh/host-ops.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetDatabase, FleetMigration } from './fleet-database.js';
import type { FleetGateResult } from './fleet-gates.js';
import type { FleetSignalSource } from './fleet-signals.js';
import { saveFleetState, type FleetHostPhase, type FleetHostRecord, type FleetStateFile } from './fleet-state.js';

export interface FleetRolloutOptions {
  environment: ResolvedEnvironment;
  /** A `.tar.gz` from `dhash release build` (with its .sha256 beside it); default: build the checkout. */
  release?: string;
  isDryRun: boolean;
  /** Roll out even when a rollback gate already fails on the fleet now (every other check still runs). */
  force: boolean;
  clock: Clock;
  logger: Logger;
  notifier?: Notifier;
  redact: Redactor;
  processEnv: Record<string, string | undefined>;
  /** Aborted by the first interrupt: no further host or wave starts; the hosts already updated are rolled back. */
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  /** Injected by tests (an interface the project owns); default: the ssh host ops of each host. */
  createHostOps?: (host: FleetHostConfig) => FleetHostOps;
  /** Injected by tests; default: the environment's PostgreSQL with the release's migrations. */
  database?: FleetDatabase;
  /** Injected by tests; default: health over HTTP, the rest from Prometheus. */
  signals?: FleetSignalSource;
  /** Injected by tests; default: quality-gates-config.json for the environment. */
  gates?: ResolvedQualityGates;
  /** Watch the fleet for the monitor window after the last wave (default true). */
  shouldWatch?: boolean;
}

export interface FleetRolloutResult {
  ok: boolean;
  exitCode: ExitCodeValue;
  isDryRun: boolean;
  deployId?: string;
  releaseId: string;
  message: string;
  hosts: FleetHostRecord[];
  /** The wave the rollout stopped in, when it stopped. */
  stoppedInWave?: number;
  violations?: FleetGateResult[];
  incidentId?: string;
  timeline: TimelineEntry[];
  /** The T+60 monitor after the last wave, when it ran. */
  monitor?: { outcome: string; exitCode: number; message: string; polls: number };
}

/** Everything one rollout shares once it holds the lock. */
export interface FleetRun {
  o: FleetRolloutOptions;
  environment: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  fleet: FleetConfig;
  gates: ResolvedQualityGates;
  ops: Map<string, FleetHostOps>;
  state: FleetStateFile;
  steps: StepRunner;
  artifact: StageArtifact;
  strategy: RollbackStrategyChoice;
  signals: FleetSignalSource;
  /** What the one migration before wave 1 applied. */
  appliedMigrations: FleetMigration[];
  /** The service environment every updated host gets (database URL, API tokens); values never logged. */
  serviceEnv: Record<string, string>;
  say: (line: string) => void;
}

export function getHostRecord(run: FleetRun, name: string): FleetHostRecord {
  const record = run.state.hosts.find((h) => h.name === name);
  if (!record) throw new Error(`no host named ${name} in the fleet state`);
  return record;
}

/** The hosts serving the new release now: the ones a bake, the watch and the final report judge. */
export function getActiveHostNames(run: FleetRun): string[] {
  return run.state.hosts.filter((h) => h.phase === 'active').map((h) => h.name);
}

export function getHostConfig(run: FleetRun, name: string): FleetHostConfig {
  return run.ops.get(name)!.host;
}

/** Updates one host's record and persists the state, so status shows every change as it happens. */
export async function setHostPhase(
  run: FleetRun,
  name: string,
  phase: FleetHostPhase,
  change: Partial<Omit<FleetHostRecord, 'name' | 'phase'>> = {},
): Promise<void> {
  Object.assign(getHostRecord(run, name), { phase, ...change });
  await saveRunState(run);
}

export async function saveRunState(run: FleetRun): Promise<void> {
  run.state.updatedAt = new Date(run.clock.now()).toISOString();
  await saveFleetState(run.environment, run.state).catch((error: unknown) =>
    run.logger.warn('could not write the fleet state', { error }),
  );
}

/** Hosts that could not be reached so far: they count against maxUnavailable. */
export function countUnreachable(run: FleetRun): number {
  return run.state.hosts.filter((h) => h.phase === 'unreachable').length;
}

/** How many hosts of a wave may be restarting at once: maxUnavailable + 1, less the hosts already unreachable. */
export function getHostConcurrency(run: FleetRun): number {
  return Math.max(1, run.fleet.plan.maxUnavailable + 1 - countUnreachable(run));
}

/**
 * Journals one host's step as `<name>` with the host and wave on the entry, and its detail prefixed by the host name;
 * rethrows the step's error after recording it.
 */
export async function runHostStep<T>(
  run: FleetRun,
  name: string,
  host: string,
  fn: () => Promise<T>,
  describe: (value: T) => string,
): Promise<T> {
  const record = getHostRecord(run, host);
  const extra = { host, wave: record.wave };
  const startedAt = run.clock.now();
  await run.steps.record(name, 'started', `${host}`, extra);
  try {
    const value = await fn();
    await run.steps.record(name, 'succeeded', `${host}: ${describe(value)} (${run.clock.now() - startedAt} ms)`, extra);
    return value;
  } catch (error) {
    await run.steps.record(name, 'failed', `${host}: ${(error as Error).message}`, extra);
    throw error;
  }
}

/** The coded error's code, when the error has one (DhashError, or a host's code carried on the error). */
export function getErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * ssh could not reach the host, or lost it mid-command: both count against maxUnavailable (after a lost connection,
 * whether the host finished the step is unknown, and it is treated as touched).
 */
export const UNREACHABLE_CODES: readonly string[] = ['EHOSTUNREACHABLE', 'ESSHCONNECTIONLOST'];

export function isUnreachableCode(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE_CODES.includes(code);
}
export const HOST_KEY_CODES: readonly string[] = ['EHOSTKEYCHANGED', 'EHOSTKEYUNKNOWN'];
