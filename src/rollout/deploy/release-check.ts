// The failed `preflight:release` check, the same for one host and a fleet.
import type { DhashError } from '../../lib/errors.js';
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
