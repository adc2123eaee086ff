// Which release `dhash host rollback` returns to: --to, else the previous one this host recorded.
import { createError } from '../../lib/errors.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { getCurrentReleaseId, listReleaseIds } from '../release/release-dirs.js';
import { getPreviousReleaseId, readReleaseHistory } from './release-history.js';

/**
 * `toReleaseId` when given (switchHostRelease then refuses one that is not staged); otherwise the newest release of
 * state/release-history.json that is not current and still on disk. None: ENOPREVIOUSRELEASE (exit 4).
 */
export async function chooseRollbackTarget(environment: ResolvedEnvironment, toReleaseId?: string): Promise<string> {
  if (toReleaseId) return toReleaseId;
  const previous = getPreviousReleaseId(
    await readReleaseHistory(environment),
    await getCurrentReleaseId(environment),
    await listReleaseIds(environment),
  );
  if (!previous) throw createError('ENOPREVIOUSRELEASE', { env: `${environment.name} (root ${environment.root})` });
  return previous;
}
