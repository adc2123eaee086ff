// The one JSON document `dhash host <sub>` prints on stdout: what the controller (target/ssh/host-ops.ts) parses.
import type { TimelineEntry } from '../deploy/step-runner.js';
import type { JournalEntry } from '../state/journal.js';
import type { LockInfo } from '../state/lock.js';

/** Names the format, so a controller talking to a release of another generation fails clearly, not half-parsed. */
export const HOST_ANSWER_FORMAT = 'dhash-host/1';

export type HostCommandName = 'verify-release' | 'activate' | 'rollback' | 'status';

/** A coded DhashError raised on the host (ELOCKED, ESERVICEENVMODE, ECHECKSUMMISMATCH…), as printed. */
export interface HostErrorReport {
  code: string;
  message: string;
  details: string;
}

export type HostAnswer<T> =
  | { format: typeof HOST_ANSWER_FORMAT; command: HostCommandName; ok: boolean; exitCode: number; result: T }
  | {
      format: typeof HOST_ANSWER_FORMAT;
      command: HostCommandName;
      ok: false;
      exitCode: number;
      error: HostErrorReport;
    };

export interface HostVerifyReport {
  releaseId: string;
  dir: string;
  contentSha256: string;
  version: string;
}

/** One health probe of the service as the host sees it (its bind address). */
export interface HostHealthReport {
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
}

/** What `activate` and `rollback` did, and what a probe says serves afterwards (the last word, not the steps). */
export interface HostActivationReport {
  action: 'activate' | 'rollback';
  /** The journal's id for this operation (`<root>/state/deploy-journal.jsonl`). */
  deployId: string;
  /** The release asked for: the one activated, or the one rolled back to. */
  releaseId: string;
  /** What `current` pointed at before (undefined on a first activation). */
  previousReleaseId?: string;
  /** `releaseId` was already current and healthy: nothing was switched or restarted. */
  isAlreadyActive: boolean;
  /** Nothing was current before: there is nothing to switch back to. */
  isFirstActivation: boolean;
  /** `releaseId` is current, running, and passed the required consecutive health checks. */
  isActivated: boolean;
  /** Why the release asked for was not verified healthy (absent when it was). */
  failureReason?: string;
  /** Present when the release asked for failed and the previous one was put back. */
  switchBack?: { releaseId: string; ok: boolean; detail: string };
  /** `current` and one health probe at the end. */
  serving: { releaseId?: string; isHealthy: boolean; detail: string };
  timeline: TimelineEntry[];
  message: string;
}

export interface HostStatusReport {
  root: string;
  hostname: string;
  currentReleaseId?: string;
  /** The release a rollback without --to returns to (state/release-history.json). */
  previousReleaseId?: string;
  releaseIds: string[];
  service: { driver: string; isRunning: boolean; pid?: number; releaseId?: string; detail: string };
  /** The deploy lock's holder, when held. */
  lock?: LockInfo & { isStale: boolean };
  /** The last entries of the deploy journal, oldest first. */
  journal: JournalEntry[];
  health?: HostHealthReport;
  /** Whether `<root>/shared/service.env` exists, and its mode (0600 is required). */
  serviceEnv: { isPresent: boolean; mode?: string };
}
