// Pure release bookkeeping: release and deploy ids, and which release directories pruning may remove.

/** `20261128T011500123Z`: UTC to the millisecond, sorts chronologically as text. */
export function formatCompactUtc(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** `<UTC ts>-<version>-<git short sha>`, e.g. `20261128T011500123Z-0.1.0-ab12cd3`; safe as a folder name. */
export function createReleaseId(input: { createdAtMs: number; version: string; gitSha: string }): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._+]/g, '_');
  return `${formatCompactUtc(input.createdAtMs)}-${clean(input.version)}-${clean(input.gitSha)}`;
}

/**
 * `<env>-<UTC yyyymmddThhmmssmmmZ>`, the id every journal line, monitor file and notification of one deploy carries.
 */
export function createDeployId(envName: string, epochMs: number): string {
  return `${envName}-${formatCompactUtc(epochMs)}`;
}

const RELEASE_ID = /^\d{8}T\d{9}Z-/;

/** Whether a folder name under releases/ is a finished release (temp and staging names start with a dot). */
export function isReleaseId(name: string): boolean {
  return RELEASE_ID.test(name);
}

/**
 * The releases to delete so that at most `keep` remain, oldest first; never `current` nor `previous`
 * (the switch-back and the monitor's rollback need them), whatever their age.
 */
export function chooseReleasesToPrune(input: {
  releaseIds: string[];
  keep: number;
  current?: string;
  previous?: string;
}): string[] {
  const sorted = input.releaseIds.filter(isReleaseId).sort();
  const protectedIds = new Set([input.current, input.previous].filter((x): x is string => Boolean(x)));
  let excess = sorted.length - Math.max(input.keep, protectedIds.size);
  const out: string[] = [];
  for (const id of sorted) {
    if (excess <= 0) break;
    if (protectedIds.has(id)) continue;
    out.push(id);
    excess--;
  }
  return out;
}
