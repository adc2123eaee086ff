// The fleet rollout's record in the controller's state folder (<root>/state/fleet-state.json): the wave in progress
// and what each host runs, rewritten atomically at every change so `dhash status` and a watching operator see it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { writeJsonAtomic } from '../../lib/atomic-file.js';

export type FleetHostPhase =
  /** Not reached by the rollout yet (or never, when it stopped first). */
  | 'waiting'
  | 'staging'
  | 'activating'
  /** Runs the new release, verified healthy by the host. */
  | 'active'
  /** Could not be reached over ssh: counted against maxUnavailable. */
  | 'unreachable'
  /** The new release failed on it and the host switched itself back. */
  | 'switched-back'
  | 'rolling-back'
  | 'rolled-back'
  /** A human must act on it. */
  | 'rollback-failed'
  | 'failed';

export interface FleetHostRecord {
  name: string;
  wave: number;
  phase: FleetHostPhase;
  /** What the host ran when the rollout began (its rollback target); undefined on a first deploy of the host. */
  previousReleaseId?: string;
  /** The release `current` points at, as last reported by the host. */
  releaseId?: string;
  /** Whether the new release may have become current there (activation started): such a host is rolled back. */
  isTouched: boolean;
  detail?: string;
}

/** `failed`: stopped before any host changed (backup or migration); `rolled-back`: every touched host verified back. */
export type FleetRolloutStatus =
  'running' | 'succeeded' | 'failed' | 'rolling-back' | 'rolled-back' | 'rollback-failed';

export interface FleetStateFile {
  formatVersion: 1;
  env: string;
  deployId: string;
  releaseId: string;
  startedAt: string;
  updatedAt: string;
  status: FleetRolloutStatus;
  bakeMs: number;
  maxUnavailable: number;
  waves: { number: number; hosts: string[] }[];
  /** The wave in progress (or the last one reached). */
  wave?: {
    number: number;
    phase: 'activating' | 'baking' | 'held' | 'stopped';
    startedAt: string;
    bakeEndsAt?: string;
  };
  hosts: FleetHostRecord[];
  rollbackStrategy: string;
  /** The T+60 monitor after the last wave (watch-fleet.ts), once it started. */
  monitor?: {
    startedAt: string;
    windowEndsAt: string;
    polls: number;
    lastPollAt?: string;
    /** One line per rollback gate of the last poll: `fleet extractionFailureRate 0.4 % pass`. */
    latestGates?: string[];
    logFile: string;
    outcome?: 'all-clear' | 'rolled-back' | 'rollback-blocked' | 'aborted' | 'superseded';
    endedAt?: string;
  };
  backupFile?: string;
  outcome?: string;
  incidentId?: string;
}

export function getFleetStateFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'fleet-state.json');
}

/** The last rollout's record, or undefined when the environment never had one (or the file is unreadable). */
export async function readFleetState(environment: ResolvedEnvironment): Promise<FleetStateFile | undefined> {
  try {
    return JSON.parse(await readFile(getFleetStateFile(environment), 'utf8')) as FleetStateFile;
  } catch {
    return undefined;
  }
}

/** Rewrites the record (temp file, then rename): a reader sees the old one or the new one, never half of one. */
export async function saveFleetState(environment: ResolvedEnvironment, state: FleetStateFile): Promise<void> {
  await writeJsonAtomic(getFleetStateFile(environment), state);
}
