// `<root>/state/release-history.json`: the releases a fleet host made current, oldest first, so a rollback knows the
// previous one on the host itself; plus the service settings of the last activation (defaults for a human's status).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { ResolvedEnvironment } from '../config/environments.js';

export interface HostServiceSettings {
  driver: 'process' | 'systemd';
  bind: string;
  port: number;
}

export interface ReleaseHistory {
  /** Each release made current and verified healthy, oldest first; a rollback cuts the ones above its target. */
  releaseIds: string[];
  service?: HostServiceSettings;
  updatedAt?: string;
}

export function getReleaseHistoryFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'release-history.json');
}

/** A missing or unreadable file is an empty history (a host never activated through `dhash host`). */
export async function readReleaseHistory(environment: ResolvedEnvironment): Promise<ReleaseHistory> {
  try {
    const value = JSON.parse(await readFile(getReleaseHistoryFile(environment), 'utf8')) as Partial<ReleaseHistory>;
    return {
      releaseIds: Array.isArray(value.releaseIds) ? value.releaseIds.filter((id) => typeof id === 'string') : [],
      service: value.service,
      updatedAt: value.updatedAt,
    };
  } catch {
    return { releaseIds: [] };
  }
}

/** The newest recorded release that is not `current` and is still on disk: where a rollback returns to. */
export function getPreviousReleaseId(
  history: ReleaseHistory,
  currentReleaseId: string | undefined,
  onDisk: readonly string[],
): string | undefined {
  return [...history.releaseIds].reverse().find((id) => id !== currentReleaseId && onDisk.includes(id));
}

/** After an activation: `releaseId` on top (moved there if it was recorded before). */
export function pushRelease(history: ReleaseHistory, releaseId: string): string[] {
  return [...history.releaseIds.filter((id) => id !== releaseId), releaseId];
}

/**
 * After a rollback to `toReleaseId`: everything above its last record is cut (those releases were rolled away from);
 * a target never recorded goes on top with the rolled-back release removed.
 */
export function cutToRelease(
  history: ReleaseHistory,
  fromReleaseId: string | undefined,
  toReleaseId: string,
): string[] {
  const at = history.releaseIds.lastIndexOf(toReleaseId);
  if (at >= 0) return history.releaseIds.slice(0, at + 1);
  return [...history.releaseIds.filter((id) => id !== fromReleaseId && id !== toReleaseId), toReleaseId];
}

export async function writeReleaseHistory(
  environment: ResolvedEnvironment,
  releaseIds: string[],
  service: HostServiceSettings,
  atMs: number,
): Promise<void> {
  // Bounded: older entries are pruned releases no rollback can reach.
  const history: ReleaseHistory = {
    releaseIds: releaseIds.slice(-50),
    service,
    updatedAt: new Date(atMs).toISOString(),
  };
  await writeJsonAtomic(getReleaseHistoryFile(environment), history);
}
