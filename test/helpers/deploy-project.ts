// A throwaway project root for deploy/rollback tests: its own
// environments.json (local on a free port), the built toolkit, the scripts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  copyFile,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import assert from 'node:assert/strict';
import { getFreePort } from './free-port.js';
import { REPO_ROOT } from './processes.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/rollout/config/environments.js';
import { computeContentSha256 } from '../../src/rollout/release/content-hash.js';
import type { ReleaseManifest } from '../../src/rollout/release/release-manifest.js';
import { isPidAlive } from '../../src/rollout/state/lock.js';

type After = { after: (fn: () => Promise<void>) => void };

export interface DeployProject {
  root: string;
  port: number;
  baseUrl: string;
  getEnv(): Promise<ResolvedEnvironment>;
  /** Kills whatever service the pidfile names (the test's cleanup). */
  stopService(): void;
}

export async function createDeployProject(
  t: After,
  options: { healthTimeoutMs?: number } = {},
): Promise<DeployProject> {
  // One after-hook that stops the service before removing the folder (the pidfile must still be there to find it).
  const root = await mkdtemp(join(tmpdir(), 'dhash-deploy-'));
  const port = await getFreePort();
  const environments = {
    environments: {
      local: {
        root: '.dhash/local',
        service: { host: '127.0.0.1', port },
        target: { type: 'process', stopTimeoutMs: 5000 },
        deploy: {
          minFreeDiskMb: 10,
          healthyChecksRequired: 3,
          healthCheckIntervalMs: 200,
          healthTimeoutMs: options.healthTimeoutMs ?? 60_000,
        },
      },
      other: { root: '.dhash/other', service: { host: '127.0.0.1', port: port + 1 } },
    },
  };
  await writeFile(join(root, 'environments.json'), JSON.stringify(environments, null, 2));
  await symlink(join(REPO_ROOT, 'dist'), join(root, 'dist'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  await copyFile(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  await mkdir(join(root, 'scripts'));
  for (const name of ['deploy_dhash.sh', 'rollback_dhash.sh', 'backup_dhash.sh', 'smoke_tests.sh']) {
    if (existsSync(join(REPO_ROOT, 'scripts', name)))
      await copyFile(join(REPO_ROOT, 'scripts', name), join(root, 'scripts', name));
  }
  const pidFile = join(root, '.dhash', 'local', 'state', 'service.pid');
  const stopService = () => {
    if (!existsSync(pidFile)) return;
    const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {}
    }
  };
  t.after(async () => {
    stopService();
    if (!process.env.DHASH_KEEP_TMP) await rm(root, { recursive: true, force: true });
  });
  return {
    root,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    getEnv: () => resolveEnvironment(root, 'local', {}),
    stopService,
  };
}

/** The release `current` points at in the project's `local` environment. */
export async function readCurrentReleaseId(project: DeployProject): Promise<string> {
  return basename(await readlink(join(project.root, '.dhash', 'local', 'current')));
}

/** One request to the project's service; asserts a 2xx answer and returns its JSON body (undefined when empty). */
export async function callServiceApi(
  project: DeployProject,
  method: string,
  path: string,
  body?: unknown,
): Promise<any> {
  const response = await fetch(`${project.baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * A copy of `baseDir` as a different release (`<later ts>-<version>-<tag>`), changed by `mutate`, with release.json
 * rewritten so its content hash verifies: a second release without a second build.
 */
export async function createReleaseVariant(
  baseDir: string,
  outDir: string,
  tag: string,
  mutate: (dir: string) => Promise<void>,
): Promise<string> {
  const base = JSON.parse(await readFile(join(baseDir, 'release.json'), 'utf8')) as ReleaseManifest;
  const later = new Date(Date.parse(base.createdAt) + 1000 + Math.floor(Math.random() * 1000));
  const releaseId = `${later.toISOString().replace(/[-:]/g, '').replace('.', '')}-${base.version}-${tag}`;
  const dir = join(outDir, releaseId);
  execFileSync('cp', ['-a', baseDir, dir]);
  await mutate(dir);
  const manifest: ReleaseManifest = {
    ...base,
    releaseId,
    gitSha: tag,
    createdAt: later.toISOString(),
    contentSha256: await computeContentSha256(dir),
  };
  await writeFile(join(dir, 'release.json'), JSON.stringify(manifest, null, 2) + '\n');
  return dir;
}

/** Every path below `dir` with its content hash or link target: equal snapshots mean a byte-identical tree. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = async (rel: string) => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const full = join(dir, path);
      const info = await lstat(full);
      if (info.isSymbolicLink()) out[path] = `link:${await readlink(full)}`;
      else if (info.isDirectory()) {
        out[path] = 'dir';
        await walk(path);
      } else
        out[path] = `file:${info.mode.toString(8)}:${createHash('sha256')
          .update(await readFile(full))
          .digest('hex')}`;
    }
  };
  await walk('');
  return out;
}

export async function copyTree(src: string, dest: string): Promise<void> {
  await cp(src, dest, { recursive: true, verbatimSymlinks: true });
}

export function isServiceAlive(pid: number): boolean {
  return isPidAlive(pid);
}

/** The compiled server's hashing call, which the fault below is put in front of. */
const HASH_LINE = 'const result = await hashImage(bytes, { mode, maxPixels: limits.maxPixels });';

/**
 * Breaks a release copy's hashing for JPEG input only: the smoke tests hash a PNG, so a deploy of it passes and only
 * real traffic fails (the monitor's job). Fails the test when the compiled server no longer has the line to patch.
 */
export async function breakJpegHashing(
  releaseDir: string,
  message = 'injected fault: JPEG hashing broken',
): Promise<void> {
  const serverJs = join(releaseDir, 'dist', 'service', 'server.js');
  const text = await readFile(serverJs, 'utf8');
  if (!text.includes(HASH_LINE))
    throw new Error('the compiled server no longer has the hashing line this test patches');
  const fault = `if (bytes[0] === 0xff) throw new Error(${JSON.stringify(message)});\n`;
  await writeFile(serverJs, text.replace(HASH_LINE, `${fault}${HASH_LINE}`));
}
