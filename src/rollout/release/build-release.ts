// Packages the checkout into a self-contained, relocatable release directory (and optionally a .tar.gz with its
// sha256).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createReleaseId } from '../core/release-naming.js';
import { createError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import { computeContentSha256, RELEASE_MANIFEST_FILE } from './content-hash.js';
import type { ReleaseManifest } from './release-manifest.js';
import { getTempSibling, writeFileAtomic } from '../../lib/atomic-file.js';
import { rethrowAsNoSpace } from '../../lib/no-space.js';
import { NATIVE_ADDON_FILE } from '../../service/hash/native-addon.js';

const execFileAsync = promisify(execFile);

export interface BuildReleaseOptions {
  projectRoot: string;
  /** Where `<releaseId>/` (and the artifact) are written; default `<projectRoot>/.dhash/artifacts`. */
  outDir?: string;
  clock: Clock;
  /** Also write `<releaseId>.tar.gz` and `<releaseId>.tar.gz.sha256`. */
  createArtifact?: boolean;
}

export interface BuiltRelease {
  releaseId: string;
  dir: string;
  artifact?: string;
  /** The artifact's sha256 when one was written, otherwise the tree's content hash. */
  sha256: string;
  manifest: ReleaseManifest;
  durationMs: number;
}

/**
 * Copies dist/, package.json, package-lock.json, the native addon when built, and the installed production
 * node_modules (dev-only packages pruned by package-lock.json) — never reinstalling or recompiling, so native modules
 * stay as built and it takes seconds.
 */
export async function buildRelease(options: BuildReleaseOptions): Promise<BuiltRelease> {
  const startedAt = options.clock.now();
  const root = resolve(options.projectRoot);
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw createError('EDISTMISSING', { projectRoot: root });
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string };
  const version = pkg.version ?? '0.0.0';
  const gitSha = await getGitShortSha(root);
  const releaseId = createReleaseId({ createdAtMs: startedAt, version, gitSha });
  const outDir = resolve(options.outDir ?? join(root, '.dhash', 'artifacts'));
  const dir = join(outDir, releaseId);
  await mkdir(outDir, { recursive: true });
  const temp = getTempSibling(dir);
  try {
    await copyReleaseFiles(root, temp);
    const manifest: ReleaseManifest = {
      releaseId,
      version,
      gitSha,
      createdAt: new Date(startedAt).toISOString(),
      contentSha256: await computeContentSha256(temp),
    };
    await writeFile(join(temp, RELEASE_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await rename(temp, dir);
    let artifact: string | undefined;
    let sha256 = manifest.contentSha256;
    if (options.createArtifact) {
      artifact = join(outDir, `${releaseId}.tar.gz`);
      sha256 = await writeReleaseArtifact(outDir, releaseId, artifact);
    }
    return { releaseId, dir, artifact, sha256, manifest, durationMs: options.clock.now() - startedAt };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    // `cp -a` reports a full disk only in its stderr ("No space left on device"), not as a code.
    const isFull = /No space left on device/i.test(String((error as { stderr?: unknown }).stderr ?? ''));
    const noSpace = isFull
      ? Object.assign(new Error('No space left on device'), { code: 'ENOSPC', cause: error })
      : error;
    return rethrowAsNoSpace(noSpace, { folder: outDir, what: `build release ${releaseId}`, isNothingChanged: true });
  }
}

export async function getGitShortSha(root: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: root });
    return stdout.trim() || 'nogit';
  } catch {
    return 'nogit';
  }
}

/** What buildRelease would produce now, without copying anything (for --dry-run plans). */
export async function planRelease(options: { projectRoot: string; clock: Clock }): Promise<ReleaseManifest> {
  const root = resolve(options.projectRoot);
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw createError('EDISTMISSING', { projectRoot: root });
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string };
  const version = pkg.version ?? '0.0.0';
  const gitSha = await getGitShortSha(root);
  const createdAtMs = options.clock.now();
  return {
    releaseId: createReleaseId({ createdAtMs, version, gitSha }),
    version,
    gitSha,
    createdAt: new Date(createdAtMs).toISOString(),
    contentSha256: '',
  };
}

/** The lock file's `dev: true` package paths ("node_modules/x", "node_modules/a/node_modules/b"). */
export async function getDevPackagePaths(root: string): Promise<Set<string>> {
  const lockFile = join(root, 'package-lock.json');
  if (!existsSync(lockFile)) return new Set();
  const lock = JSON.parse(await readFile(lockFile, 'utf8')) as { packages?: Record<string, { dev?: boolean }> };
  // `devOptional` packages are kept: an optional dependency of a production package needs them.
  return new Set(
    Object.entries(lock.packages ?? {})
      .filter(([key, v]) => key && v.dev === true)
      .map(([key]) => key),
  );
}

async function copyReleaseFiles(root: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await cp(join(root, 'dist'), join(target, 'dist'), { recursive: true, dereference: true });
  for (const file of ['package.json', 'package-lock.json']) {
    if (existsSync(join(root, file))) await cp(join(root, file), join(target, file));
  }
  // The native decoders and match kernel (built at npm ci); without it the release hashes through sharp and
  // matches in the JS loop. N-API keeps it loadable by any later node. Only the module: not node-gyp's objects.
  if (existsSync(join(root, NATIVE_ADDON_FILE))) {
    await mkdir(join(target, NATIVE_ADDON_FILE, '..'), { recursive: true });
    await cp(join(root, NATIVE_ADDON_FILE), join(target, NATIVE_ADDON_FILE));
  }
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return;
  const dev = await getDevPackagePaths(root);
  const targetModules = join(target, 'node_modules');
  await mkdir(targetModules, { recursive: true });
  // `cp -a` per top-level package is several times faster than a filtered fs.cp walk over ~10k files.
  const sources: string[] = [];
  for (const entry of await readdir(modules, { withFileTypes: true })) {
    if (entry.name === '.cache') continue;
    if (entry.isDirectory() && entry.name.startsWith('@')) {
      const kept = (await readdir(join(modules, entry.name))).filter(
        (name) => !dev.has(`node_modules/${entry.name}/${name}`),
      );
      if (!kept.length) continue;
      await mkdir(join(targetModules, entry.name), { recursive: true });
      await copyAll(
        kept.map((name) => join(modules, entry.name, name)),
        join(targetModules, entry.name),
      );
    } else if (!dev.has(`node_modules/${entry.name}`)) {
      sources.push(join(modules, entry.name));
    }
  }
  await copyAll(sources, targetModules);
  // Dev packages nested below production ones.
  for (const path of dev) {
    if (path.split('/node_modules/').length > 1) await rm(join(target, path), { recursive: true, force: true });
  }
  await removeDanglingBinLinks(targetModules);
}

async function copyAll(sources: string[], destDir: string): Promise<void> {
  for (let i = 0; i < sources.length; i += 200) {
    await execFileAsync('cp', ['-a', ...sources.slice(i, i + 200), destDir], { maxBuffer: 16 * 1024 * 1024 });
  }
}

/** `.bin/` links of pruned dev packages would dangle; remove them so the tree is honest. */
async function removeDanglingBinLinks(modulesDir: string): Promise<void> {
  const visit = async (dir: string, depth: number): Promise<void> => {
    const bin = join(dir, '.bin');
    if (existsSync(bin)) {
      for (const name of await readdir(bin)) {
        const link = join(bin, name);
        const dest = await readlink(link).catch(() => undefined);
        if (dest !== undefined && !existsSync(resolve(bin, dest))) await rm(link, { force: true });
      }
    }
    if (depth > 6) return;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const pkgDir = join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        for (const scoped of await readdir(pkgDir, { withFileTypes: true })) {
          if (scoped.isDirectory() && existsSync(join(pkgDir, scoped.name, 'node_modules'))) {
            await visit(join(pkgDir, scoped.name, 'node_modules'), depth + 1);
          }
        }
      } else if (existsSync(join(pkgDir, 'node_modules'))) {
        await visit(join(pkgDir, 'node_modules'), depth + 1);
      }
    }
  };
  await visit(modulesDir, 0);
}

/** `tar -czf` of the release folder, then `<artifact>.sha256` in sha256sum format (both written under temp names). */
async function writeReleaseArtifact(outDir: string, releaseId: string, artifact: string): Promise<string> {
  const temp = getTempSibling(artifact);
  try {
    await execFileAsync('tar', ['-czf', temp, '-C', outDir, releaseId]);
    const sha256 = await computeFileSha256(temp);
    await rename(temp, artifact);
    await writeFileAtomic(`${artifact}.sha256`, `${sha256}  ${basename(artifact)}\n`);
    return sha256;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function computeFileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolveDone, reject) => {
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('end', resolveDone)
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** Size of a tree in bytes (for the plan and free-disk check). */
export async function getTreeSizeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
