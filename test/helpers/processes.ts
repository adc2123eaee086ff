// Spawns real processes for integration tests (a dhash service
// from dist/, a Prometheus) and waits for them with deadlines.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort } from './free-port.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Kills the process (SIGKILL after a grace period) when the test ends. */
export function killOnExit(t: { after: (fn: () => Promise<void>) => void }, child: ChildProcess): void {
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
}

export async function startDistService(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
): Promise<{ url: string; port: number; child: ChildProcess }> {
  const port = await getFreePort();
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/cli/main.js'),
      'serve',
      '--migrate',
      '--db',
      join(dir, 'svc.sqlite'),
      '--port',
      String(port),
    ],
    {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, DHASH_PORT: '' },
    },
  );
  killOnExit(t, child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the dhash service', async () => (await fetch(`${url}/health`)).status === 200);
  return { url, port, child };
}

export async function startPrometheus(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
  targetPort: number,
): Promise<{ url: string }> {
  const port = await getFreePort();
  await mkdir(join(dir, 'prom-data'), { recursive: true });
  const config =
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: dhash\n    ` +
    `static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`;
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  killOnExit(t, child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).status === 200, 30_000);
  return { url };
}
