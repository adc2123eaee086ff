// Two real releases for a test file, built once: A from the checkout, B a verified copy that differs only in a file.
import { after, before } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRelease } from '../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../src/lib/clock.js';
import { createReleaseVariant } from './deploy-project.js';
import { REPO_ROOT } from './processes.js';

export interface BuiltReleases {
  /** The release directory built from the checkout. */
  releaseA: string;
  /** A copy of A whose dist/VARIANT.txt says B: a second release without a second build. */
  releaseB: string;
}

/**
 * Registers the file's `before` (build A, derive B in a temp dir named `prefix…`) and `after` (remove it). The fields
 * are set once `before` has run, so read them inside tests, not at load time.
 */
export function useBuiltReleases(prefix: string): BuiltReleases {
  const releases = {} as BuiltReleases;
  let workDir: string | undefined;
  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), prefix));
    releases.releaseA = (
      await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() })
    ).dir;
    releases.releaseB = await createReleaseVariant(releases.releaseA, workDir, 'variantb', (dir) =>
      writeFile(join(dir, 'dist', 'VARIANT.txt'), 'B\n'),
    );
  });
  after(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });
  return releases;
}
