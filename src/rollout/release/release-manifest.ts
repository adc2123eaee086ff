// release.json: what a release directory is (id, version, git sha, content hash), read and checked before use.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeContentSha256, RELEASE_MANIFEST_FILE } from './content-hash.js';
import { createError } from '../../lib/errors.js';

export interface ReleaseManifest {
  releaseId: string;
  version: string;
  gitSha: string;
  createdAt: string;
  contentSha256: string;
}

/** Reads `<dir>/release.json`; a missing or malformed one throws EBADRELEASE naming the file. */
export async function readReleaseManifest(dir: string): Promise<ReleaseManifest> {
  const file = join(dir, RELEASE_MANIFEST_FILE);
  let value: Partial<ReleaseManifest>;
  try {
    value = JSON.parse(await readFile(file, 'utf8')) as Partial<ReleaseManifest>;
  } catch (error) {
    throw createError('EBADRELEASE', { path: dir, reason: `cannot read ${file}: ${(error as Error).message}` }, error);
  }
  for (const key of ['releaseId', 'version', 'gitSha', 'createdAt', 'contentSha256'] as const) {
    if (typeof value[key] !== 'string' || value[key] === '') {
      throw createError('EBADRELEASE', { path: dir, reason: `${file} has no string \`${key}\`` });
    }
  }
  return value as ReleaseManifest;
}

/**
 * Recomputes the tree hash; a difference throws ECHECKSUMMISMATCH (exit 3): the release was changed after it was built.
 */
export async function verifyReleaseDir(dir: string): Promise<ReleaseManifest> {
  const manifest = await readReleaseManifest(dir);
  const actual = await computeContentSha256(dir);
  if (actual !== manifest.contentSha256) {
    throw createError('ECHECKSUMMISMATCH', {
      file: join(dir, RELEASE_MANIFEST_FILE),
      expected: manifest.contentSha256,
      actual,
    });
  }
  return manifest;
}
