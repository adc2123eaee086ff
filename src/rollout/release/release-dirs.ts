// The environment's releases/ folder and `current` link: which release is active, staging, the atomic switch, pruning.
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { chooseReleasesToPrune, isReleaseId } from '../core/release-naming.js';
import { getTempSibling, replaceSymlinkAtomic } from '../../lib/atomic-file.js';
import { readReleaseManifest, type ReleaseManifest } from './release-manifest.js';

/** The release `current` points at, or undefined before the first deploy. */
export async function getCurrentReleaseId(environment: ResolvedEnvironment): Promise<string | undefined> {
  try {
    return basename(await readlink(environment.currentLink));
  } catch {
    return undefined;
  }
}

export async function listReleaseIds(environment: ResolvedEnvironment): Promise<string[]> {
  if (!existsSync(environment.releasesDir)) return [];
  return (await readdir(environment.releasesDir)).filter(isReleaseId).sort();
}

/** An on-disk release with the same content, so a redeploy or a rollback reuses it instead of copying. */
export async function findReleaseByContentSha256(
  environment: ResolvedEnvironment,
  contentSha256: string,
): Promise<ReleaseManifest | undefined> {
  for (const id of (await listReleaseIds(environment)).reverse()) {
    const manifest = await readReleaseManifest(join(environment.releasesDir, id)).catch(() => undefined);
    if (manifest?.contentSha256 === contentSha256) return manifest;
  }
  return undefined;
}

export interface StagedRelease {
  releaseId: string;
  dir: string;
  isReused: boolean;
}

/**
 * Puts the release at `releases/<id>`: reuses one with the same content hash, else moves (`isSourceDisposable`)
 * or copies the source under a temp name and renames it, so a half-copied release never has a release name.
 */
export async function stageRelease(
  environment: ResolvedEnvironment,
  source: { dir: string; manifest: ReleaseManifest; isSourceDisposable: boolean },
): Promise<StagedRelease> {
  const existing = await findReleaseByContentSha256(environment, source.manifest.contentSha256);
  if (existing)
    return { releaseId: existing.releaseId, dir: join(environment.releasesDir, existing.releaseId), isReused: true };
  await mkdir(environment.releasesDir, { recursive: true });
  const dir = join(environment.releasesDir, source.manifest.releaseId);
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  if (source.isSourceDisposable) {
    try {
      await rename(source.dir, dir);
      return { releaseId: source.manifest.releaseId, dir, isReused: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    }
  }
  const temp = getTempSibling(dir);
  try {
    await cp(source.dir, temp, { recursive: true, verbatimSymlinks: true });
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { releaseId: source.manifest.releaseId, dir, isReused: false };
}

/** Points `current` at `releases/<id>` with a relative link (the root stays relocatable): new symlink + rename. */
export async function switchCurrentRelease(environment: ResolvedEnvironment, releaseId: string): Promise<void> {
  await replaceSymlinkAtomic(join('releases', releaseId), environment.currentLink);
}

/** Removes the oldest releases beyond `keep`, never `current` nor `previous`; returns the removed ids. */
export async function pruneReleases(
  environment: ResolvedEnvironment,
  options: { keep: number; previous?: string },
): Promise<string[]> {
  const remove = chooseReleasesToPrune({
    releaseIds: await listReleaseIds(environment),
    keep: options.keep,
    current: await getCurrentReleaseId(environment),
    previous: options.previous,
  });
  for (const id of remove) await rm(join(environment.releasesDir, id), { recursive: true, force: true });
  return remove;
}
