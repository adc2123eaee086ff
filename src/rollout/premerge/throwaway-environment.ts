// A temporary project root for premerge: its own environments.json (local on a free port), short monitor window, the
// built toolkit.
import { cp, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayEnvironment {
  root: string;
  port: number;
}

export async function createThrowawayEnvironment(
  repoRoot: string,
  options: { windowSeconds: number },
): Promise<ThrowawayEnvironment> {
  const root = await mkdtemp(join(tmpdir(), 'dhash-premerge-'));
  const port = await getFreePort();
  const environments = {
    environments: {
      local: {
        description: 'premerge throwaway environment',
        root: '.dhash/local',
        service: { host: '127.0.0.1', port },
        target: { type: 'process' },
        deploy: { minFreeDiskMb: 50, healthyChecksRequired: 3, healthCheckIntervalMs: 300, healthTimeoutMs: 60_000 },
      },
    },
  };
  const gates = JSON.parse(await readFile(join(repoRoot, 'quality-gates-config.json'), 'utf8')) as {
    environments?: Record<string, unknown>;
  };
  gates.environments = {
    ...gates.environments,
    local: { monitor: { window: `${options.windowSeconds}s`, poll: [{ every: '1s' }] } },
  };
  await writeFile(join(root, 'environments.json'), JSON.stringify(environments, null, 2) + '\n');
  await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates, null, 2) + '\n');
  // The release is built from this root: the checkout's dist/ and node_modules/ (linked) and package files (copied).
  await symlink(join(repoRoot, 'dist'), join(root, 'dist'), 'junction');
  await symlink(join(repoRoot, 'node_modules'), join(root, 'node_modules'), 'junction');
  for (const name of ['package.json', 'package-lock.json']) await cp(join(repoRoot, name), join(root, name));
  return { root, port };
}

function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}
