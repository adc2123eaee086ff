// The release of a fleet rollout: a verified .tar.gz (each host gets the artifact and checks its sha256 itself) and
// its unpacked tree on the controller (the migrations it carries).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import { buildRelease } from '../release/build-release.js';
import type { ReleaseManifest } from '../release/release-manifest.js';
import { resolveReleaseSource } from '../release/resolve-release-source.js';
import type { StageArtifact } from '../target/ssh/host-ops.js';

export interface FleetRelease {
  manifest: ReleaseManifest;
  /** What every host receives; absent when a dry run only plans to build the checkout. */
  artifact?: StageArtifact;
  /** The unpacked, verified release; '' when only planned. */
  dir: string;
  checksumDetail: string;
  /** Removes the temp folders; idempotent. */
  cleanup(): Promise<void>;
}

/** `--release` must be an artifact (a directory has no sha256 a host can check); none: build the checkout. */
export async function resolveFleetRelease(options: {
  projectRoot: string;
  release?: string;
  clock: Clock;
  isPlanOnly: boolean;
}): Promise<FleetRelease> {
  if (options.release === undefined && options.isPlanOnly) {
    const source = await resolveReleaseSource({ ...options, isPlanOnly: true });
    return { manifest: source.manifest, dir: '', checksumDetail: source.checksumDetail, cleanup: source.cleanup };
  }
  if (options.release === undefined) {
    const work = await mkdtemp(join(tmpdir(), 'dhash-fleet-release-'));
    const cleanup = () => rm(work, { recursive: true, force: true });
    try {
      const built = await buildRelease({
        projectRoot: options.projectRoot,
        outDir: work,
        clock: options.clock,
        createArtifact: true,
      });
      return {
        manifest: built.manifest,
        artifact: { path: built.artifact!, sha256: built.sha256, releaseId: built.releaseId },
        dir: built.dir,
        checksumDetail:
          `built ${built.releaseId} from the checkout ` + `as ${built.releaseId}.tar.gz in ${built.durationMs} ms`,
        cleanup,
      };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
  const path = resolve(options.projectRoot, options.release);
  if (!/\.(tar\.gz|tgz)$/.test(path))
    throw createError('EBADRELEASE', {
      path,
      reason:
        'a fleet rollout copies the artifact to every host, which checks its sha256: pass the .tar.gz that ' +
        '`npx dhash release build` writes (with its .sha256 beside it)',
    });
  const source = await resolveReleaseSource({ ...options, isPlanOnly: false });
  // resolveReleaseSource compared the artifact with this file already: read, not hashed again.
  const sha256 = (await readFile(`${path}.sha256`, 'utf8')).trim().split(/\s+/)[0].toLowerCase();
  return {
    manifest: source.manifest,
    artifact: { path, sha256, releaseId: source.manifest.releaseId },
    dir: source.dir,
    checksumDetail: source.checksumDetail,
    cleanup: source.cleanup,
  };
}
