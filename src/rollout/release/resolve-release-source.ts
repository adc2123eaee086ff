// Turns `--release <dir | .tar.gz>` (or nothing: build the checkout) into a verified release directory to stage.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import { buildRelease, computeFileSha256, planRelease } from './build-release.js';
import { verifyReleaseDir, type ReleaseManifest } from './release-manifest.js';

const execFileAsync = promisify(execFile);

export interface ReleaseSource {
  dir: string;
  manifest: ReleaseManifest;
  /** What was checked, for the preflight report ("artifact sha256 matches", "built from the checkout"). */
  checksumDetail: string;
  /** Whether `dir` is a temp copy that staging may move away. */
  isSourceDisposable: boolean;
  /** Removes any temp folder; idempotent. */
  cleanup(): Promise<void>;
}

/** `isPlanOnly` (dry run): the checkout is not copied, only described; a given release is still fully verified. */
export async function resolveReleaseSource(options: {
  projectRoot: string;
  release?: string;
  clock: Clock;
  isPlanOnly?: boolean;
}): Promise<ReleaseSource> {
  if (options.release === undefined && options.isPlanOnly) {
    const manifest = await planRelease(options);
    return {
      dir: '',
      manifest,
      checksumDetail: `would build ${manifest.releaseId} from the checkout (dist/ is built)`,
      isSourceDisposable: false,
      cleanup: async () => {},
    };
  }
  const work = await mkdtemp(join(tmpdir(), 'dhash-release-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    if (options.release === undefined) {
      const built = await buildRelease({ projectRoot: options.projectRoot, outDir: work, clock: options.clock });
      return {
        dir: built.dir,
        manifest: built.manifest,
        checksumDetail: `built ${built.releaseId} from the checkout in ${built.durationMs} ms`,
        isSourceDisposable: true,
        cleanup,
      };
    }
    const path = resolve(options.projectRoot, options.release);
    if (!existsSync(path)) throw createError('EBADRELEASE', { path, reason: 'nothing exists at that path' });
    if ((await stat(path)).isDirectory()) {
      const manifest = await verifyReleaseDir(path);
      await cleanup();
      return {
        dir: path,
        manifest,
        checksumDetail: `content hash of ${manifest.releaseId} matches its release.json`,
        isSourceDisposable: false,
        cleanup: async () => {},
      };
    }
    if (!/\.(tar\.gz|tgz)$/.test(path))
      throw createError('EBADRELEASE', { path, reason: 'expected a release directory or a .tar.gz artifact' });
    const expected = await readExpectedSha256(path);
    const actual = await computeFileSha256(path);
    if (actual !== expected) throw createError('ECHECKSUMMISMATCH', { file: path, expected, actual });
    try {
      await execFileAsync('tar', ['-xzf', path, '-C', work, '--no-same-owner']);
    } catch (error) {
      throw createError(
        'EBADRELEASE',
        { path, reason: `tar could not extract it: ${(error as Error).message.split('\n')[0]}` },
        error,
      );
    }
    const tops = await readdir(work);
    if (tops.length !== 1)
      throw createError('EBADRELEASE', {
        path,
        reason: `expected one top folder in the artifact, found ${tops.length}`,
      });
    const manifest = await verifyReleaseDir(join(work, tops[0]));
    return {
      dir: join(work, tops[0]),
      manifest,
      checksumDetail:
        `artifact sha256 ${actual.slice(0, 12)}… matches its .sha256; ` + 'content hash matches release.json',
      isSourceDisposable: true,
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function readExpectedSha256(artifact: string): Promise<string> {
  const file = `${artifact}.sha256`;
  if (!existsSync(file)) throw createError('ECHECKSUMMISSING', { file: artifact });
  const match = /^([0-9a-f]{64})\b/i.exec((await readFile(file, 'utf8')).trim());
  if (!match)
    throw createError('EBADRELEASE', { path: artifact, reason: `${file} does not start with a sha256 hex digest` });
  return match[1].toLowerCase();
}
