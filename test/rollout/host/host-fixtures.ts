// Real releases and a real host root for the `dhash host` tests: the staged release's own CLI run as a child process,
// the way a fleet host runs it over ssh.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import type { HostAnswer } from '../../../src/rollout/host/host-report.js';
import { createReleaseVariant } from '../../helpers/deploy-project.js';
import { getFreePort } from '../../helpers/free-port.js';
import { REPO_ROOT } from '../../helpers/processes.js';

type After = { after: (fn: () => Promise<void>) => void };

export interface HostReleases {
  workDir: string;
  /** A good release and a second good one (differs by a file). */
  good: string;
  other: string;
  /** Its CLI works (so `host activate` runs), but `serve` exits at once: health can never pass. */
  unhealthy: string;
  cleanup(): Promise<void>;
}

/** Builds the checkout once (dist/ must be built: `npm run build`) and derives the variants from it. */
export async function buildHostReleases(): Promise<HostReleases> {
  const workDir = await mkdtemp(join(tmpdir(), 'dhash-host-releases-'));
  const built = await buildRelease({ projectRoot: REPO_ROOT, outDir: workDir, clock: createSystemClock() });
  const other = await createReleaseVariant(built.dir, workDir, 'other', (dir) =>
    writeFile(join(dir, 'dist', 'VARIANT.txt'), 'other\n'),
  );
  const unhealthy = await createReleaseVariant(built.dir, workDir, 'unhealthy', async (dir) => {
    const serveJs = join(dir, 'dist', 'cli', 'commands', 'serve.js');
    await writeFile(serveJs, `process.exit(1);\n${await readFile(serveJs, 'utf8')}`);
  });
  return {
    workDir,
    good: built.dir,
    other,
    unhealthy,
    cleanup: () => rm(workDir, { recursive: true, force: true }),
  };
}

export interface HostRun<T> {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  answer: HostAnswer<T>;
}

export interface HostRoot {
  root: string;
  port: number;
  healthUrl: string;
  /** Hard-links a release folder into releases/ (what `stage` leaves behind, in a fraction of the time). */
  stage(releaseDir: string): string;
  /** Runs `<root>/releases/<cliRelease>/dist/cli/main.js host <args> --root <root>` and parses its JSON answer. */
  runHost<T = unknown>(cliRelease: string, args: string[], options?: RunOptions): Promise<HostRun<T>>;
  /** Service flags for activate/rollback: process driver on 127.0.0.1 and the free port, quick probes. */
  serviceArgs: string[];
  currentReleaseId(): Promise<string | undefined>;
  /** The pid the process driver recorded, if any. */
  servicePid(): number | undefined;
}

export interface RunOptions {
  processEnv?: Record<string, string>;
  /** Called with the child once spawned (to signal it). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** A temp root with a migrated SQLite database in shared/ and a free port; the service is killed when the test ends. */
export async function createHostRoot(t: After): Promise<HostRoot> {
  const root = await mkdtemp(join(tmpdir(), 'dhash-host-root-'));
  const port = await getFreePort();
  const pidFile = join(root, 'state', 'service.pid');
  t.after(async () => {
    if (existsSync(pidFile)) {
      const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {}
      }
    }
    if (!process.env.DHASH_KEEP_TMP) await rm(root, { recursive: true, force: true });
  });
  execFileSync(process.execPath, [
    join(REPO_ROOT, 'dist/cli/main.js'),
    'migrate',
    '--db',
    `${root}/shared/dhash.sqlite`,
  ]);
  const runHost = <T>(cliRelease: string, args: string[], options: RunOptions = {}) =>
    new Promise<HostRun<T>>((resolve, reject) => {
      const main = join(root, 'releases', cliRelease, 'dist', 'cli', 'main.js');
      const child = spawn(process.execPath, [main, 'host', ...args, '--root', root], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.processEnv },
      });
      options.onSpawn?.(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (exitCode) => {
        try {
          resolve({ exitCode, stdout, stderr, answer: JSON.parse(stdout) as HostAnswer<T> });
        } catch {
          reject(new Error(`host ${args[0]} printed no JSON answer (exit ${exitCode}): ${stdout}\n${stderr}`));
        }
      });
    });
  return {
    root,
    port,
    healthUrl: `http://127.0.0.1:${port}/health`,
    stage(releaseDir) {
      execFileSync('mkdir', ['-p', join(root, 'releases')]);
      execFileSync('cp', ['-al', releaseDir, join(root, 'releases')]);
      return basename(releaseDir);
    },
    runHost,
    serviceArgs: [
      ...['--driver', 'process', '--bind', '127.0.0.1', '--port', String(port)],
      ...['--health-interval-ms', '100', '--health-timeout-ms', '20000', '--env-name', 'hosttest'],
    ],
    currentReleaseId: async () => readlink(join(root, 'current')).then(basename, () => undefined),
    servicePid: () =>
      existsSync(pidFile) ? (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid : undefined,
  };
}

/** The answer's result, failing with the whole answer when it is an error answer. */
export function getResult<T>(run: HostRun<T>): T {
  if (!('result' in run.answer)) throw new Error(`expected a result, got ${JSON.stringify(run.answer)}\n${run.stderr}`);
  return run.answer.result;
}
