// One fleet host's operations over ssh: check, stage, activate, rollback, status, service env (the wave orchestrator's
// per-host steps). The host side is the staged release's own `dhash host <sub>` (src/rollout/host/): nothing of dhash
// is installed on a host by hand.
import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { FleetHostConfig } from '../../config/environments-schema.js';
import type { HostActivationReport, HostStatusReport } from '../../host/host-report.js';
import { createHostOpsOverSsh } from './host-ops-ssh.js';
import type { SshClient } from './ssh-client.js';

/** What `check()` found; one entry per check, in order (a failed ssh check skips the rest). */
export interface HostReachability {
  host: string;
  /** Every check passed: the host can be staged and activated. */
  ok: boolean;
  checks: { name: 'host:ssh' | 'host:node' | 'host:root' | 'host:disk'; ok: boolean; detail: string }[];
  /**
   * The code of the first failed check: the ssh client's EHOSTKEYCHANGED / EHOSTKEYUNKNOWN (refuse: someone may be
   * in the middle), EHOSTUNREACHABLE (counts against maxUnavailable), ESSHAUTHFAILED…; then EHOSTNODEMISSING (node
   * absent or another major than the release's), EHOSTCOMMANDFAILED (root not writable), ENOSPACE (disk).
   */
  code?: string;
  nodeVersion?: string;
  freeDiskMb?: number;
}

/** The release built by `dhash release build --artifact`: `<path>` and `<path>.sha256` beside it. */
export interface StageArtifact {
  path: string;
  sha256: string;
  releaseId: string;
}

/** The host's own report (host/host-report.ts) with the host it came from. */
export type HostActivation = HostActivationReport & { host: string; exitCode: number };
export type HostStatus = HostStatusReport & { host: string };

export interface ActivateOptions {
  /** Consecutive OK health probes required on the host (default: the environment's deploy.healthyChecksRequired). */
  healthyChecks?: number;
  /** Passed to the host as --timeout-ms for its health wait (default: the environment's deploy.healthTimeoutMs). */
  healthTimeoutMs?: number;
}

export interface FleetHostOps {
  readonly host: FleetHostConfig;
  /**
   * Read-only: ssh reaches the host with a known, unchanged host key; `nodePath` runs; the root is usable; the root's
   * filesystem has the environment's deploy.minFreeDiskMb free. Never throws for a host problem: the result says which
   * check failed and its `code`.
   */
  check(): Promise<HostReachability>;
  /**
   * Puts the artifact at `<root>/releases/<releaseId>`: copies it and its .sha256 into `<root>/incoming` (atomic),
   * `sha256sum -c` on the host, tar into a temp folder under releases/, rename, then the staged release's own
   * `host verify-release`. Idempotent: a release already staged whose content hash verifies is left alone. Changes
   * neither `current` nor the service. Throws ECHECKSUMMISMATCH (artifact damaged in transit; the partial copy is
   * removed), EHOSTCOMMANDFAILED, or the ssh client's EHOST… codes; after a failure the host is as before.
   */
  stage(artifact: StageArtifact): Promise<void>;
  /**
   * Runs `host activate` of the staged release on the host: lock, journal, switch `current`, restart, N OK health
   * probes; when they fail, switch back to the previous release and verify it. Returns the host's report for those
   * outcomes (exitCode 0 activated, 1 switched back and previous verified serving, 4 a human must act). Refusals throw
   * the host's code with the host named (ELOCKED, ESERVICEENVMODE, ERELEASENOTSTAGED, ECHECKSUMMISMATCH: nothing
   * changed); a non-JSON answer throws EHOSTBADANSWER. Idempotent: the release already current and healthy is left
   * running (isAlreadyActive). If ssh drops mid-way, the host finishes on its own; call status() to learn the outcome.
   */
  activate(releaseId: string, options?: ActivateOptions): Promise<HostActivation>;
  /**
   * Returns the host to `toReleaseId` (default: the previous release recorded on the host), restarted and verified
   * healthy, using that release's own CLI. Same result and errors as activate(); ENOPREVIOUSRELEASE (exit 4) when the
   * host has nothing to return to. Rolling back to the release already current and healthy changes nothing.
   */
  rollback(toReleaseId?: string, options?: ActivateOptions): Promise<HostActivation>;
  /**
   * Read-only: current, previous, staged releases, the service (running, pid), the lock holder, the journal tail and
   * one health probe from the host. Works before anything is staged (then `releaseIds` is empty and `service` is not
   * running). Throws the ssh client's EHOST… codes or EHOSTBADANSWER.
   */
  status(): Promise<HostStatus>;
  /**
   * Replaces `<root>/shared/service.env` (the service's DHASH_DATABASE_URL, DHASH_API_TOKENS…): content sent over
   * stdin, never argv; written under umask 077 to a temp name and renamed, so it is 0600 and never half-written.
   * Takes effect at the next restart. Idempotent. Throws ESERVICEENVINVALID naming each bad variable (nothing sent),
   * EHOSTCOMMANDFAILED, or the ssh client's codes. Values never reach a log, an error or argv.
   */
  writeServiceEnv(vars: Record<string, string>): Promise<void>;
}

export interface FleetHostOpsOptions {
  logger: Logger;
  clock: Clock;
  /** The controller's environment: ssh runs with it (SSH_AUTH_SOCK, HOME for ~/.ssh/config). */
  processEnv: Record<string, string | undefined>;
  /** An ssh client to share (default: one made from the target's ssh settings for this host). */
  client?: SshClient;
}

/** `environment.config.target` must be the ssh target; `host` one of its hosts. */
export function createFleetHostOps(
  environment: ResolvedEnvironment,
  host: FleetHostConfig,
  options: FleetHostOpsOptions,
): FleetHostOps {
  return createHostOpsOverSsh(environment, host, options);
}
