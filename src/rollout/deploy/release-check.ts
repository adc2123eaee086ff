// The failed `preflight:release` check, the same for one host and a fleet.
import { isDhashError, type DhashError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import type { PreflightCheck } from './preflight.js';

/** A release that could not be resolved: refused for safety (3) when its error says so, else bad usage (2). */
export function toReleaseCheckFailure(error: DhashError): PreflightCheck {
  return {
    name: 'preflight:release',
    ok: false,
    exitCode: error.exitCode === ExitCode.REFUSED ? 3 : 2,
    detail: `${error.message} ${error.details}`,
  };
}

/**
 * Runs the release resolution of one host or a fleet as the `preflight:release` check: a coded failure becomes a failed
 * check (with its error, for callers that treat some codes as themselves), anything else is rethrown.
 */
export async function checkReleaseSource<T extends { checksumDetail: string }>(
  resolve: () => Promise<T>,
): Promise<{ source?: T; check: PreflightCheck; error?: DhashError }> {
  try {
    const source = await resolve();
    return { source, check: { name: 'preflight:release', ok: true, detail: source.checksumDetail } };
  } catch (error) {
    if (!isDhashError(error)) throw error;
    return { check: toReleaseCheckFailure(error), error };
  }
}
