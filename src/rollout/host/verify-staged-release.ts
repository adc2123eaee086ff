// `dhash host verify-release`: a release under `<root>/releases/<id>` is whole: its content hash matches release.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createError } from '../../lib/errors.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { listReleaseIds } from '../release/release-dirs.js';
import { verifyReleaseDir } from '../release/release-manifest.js';
import type { HostVerifyReport } from './host-report.js';

/**
 * Throws ERELEASENOTSTAGED (the release is not there), EBADRELEASE (no readable release.json, or one naming another
 * release) or ECHECKSUMMISMATCH (a file changed since the build). Read-only.
 */
export async function verifyStagedRelease(
  environment: ResolvedEnvironment,
  releaseId: string,
): Promise<HostVerifyReport> {
  const dir = join(environment.releasesDir, releaseId);
  if (!/^[\w.+-]+$/.test(releaseId) || !existsSync(dir))
    throw createError('ERELEASENOTSTAGED', {
      root: environment.root,
      releaseId,
      staged: await listReleaseIds(environment),
    });
  const manifest = await verifyReleaseDir(dir);
  if (manifest.releaseId !== releaseId)
    throw createError('EBADRELEASE', {
      path: dir,
      reason: `its release.json names the release ${manifest.releaseId}, not ${releaseId}`,
    });
  return { releaseId, dir, contentSha256: manifest.contentSha256, version: manifest.version };
}
