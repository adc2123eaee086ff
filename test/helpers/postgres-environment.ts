// A project whose `staging` environment keeps its data in a real PostgreSQL (the harness), with a release made current
// and the schema migrated: the fixture of the PostgreSQL backup and rollback tests.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/rollout/config/environments.js';
import { applyPendingPostgresMigrations, openPostgresStore } from '../../src/service/store/postgres/index.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

/** Distinctive, so a test can search every output, log and zip entry for it. */
export const PG_TEST_PASSWORD = 'pw-Zq8x41-unique';

export interface PostgresProject {
  projectRoot: string;
  server: PostgresServer;
  /** { DHASH_DATABASE_URL: the application URL } — what the CLI and the service get. */
  processEnv: Record<string, string>;
  environment: ResolvedEnvironment;
  /**
   * Registers teardown that must run before the server stops (a service holding connections): last added, first run.
   * Shaped like a test context, so it can be passed where one is expected.
   */
  beforeServerStops: { after: (fn: () => Promise<void>) => void };
}

type After = { after: (fn: () => Promise<void>) => void };

/** environments.json with `staging` on PostgreSQL (urlEnv DHASH_DATABASE_URL) below `projectRoot/.dhash/`. */
export async function createPostgresProject(
  t: After,
  projectRoot: string,
  options: { servicePort?: number; isMigrated?: boolean } = {},
): Promise<PostgresProject> {
  // One teardown: what uses the server first (newest first), then the server, so no client sees it vanish mid-query.
  const server = await startPostgres({ password: PG_TEST_PASSWORD });
  const teardown: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const fn of teardown.reverse()) await fn().catch(() => {});
    await server.stop();
  });
  const environments = {
    environments: {
      staging: {
        root: '.dhash/staging',
        service: { host: '127.0.0.1', port: options.servicePort ?? 18790 },
        database: { engine: 'postgres' },
      },
    },
  };
  await writeFile(join(projectRoot, 'environments.json'), JSON.stringify(environments, null, 2));
  const processEnv = { DHASH_DATABASE_URL: server.url };
  if (options.isMigrated !== false) await withClient(server.url, (c) => applyPendingPostgresMigrations(c));
  const environment = await resolveEnvironment(projectRoot, 'staging', processEnv);
  const beforeServerStops = { after: (fn: () => Promise<void>) => void teardown.push(fn) };
  return { projectRoot, server, processEnv, environment, beforeServerStops };
}

/** A small release `r1` made current, with shared/service.json (what a restore puts back besides the database). */
export async function createCurrentRelease(environment: ResolvedEnvironment, releaseId = 'r1'): Promise<string> {
  const dir = join(environment.releasesDir, releaseId);
  await mkdir(join(dir, 'dist', 'cli'), { recursive: true });
  await writeFile(join(dir, 'dist', 'cli', 'main.js'), `console.log("dhash ${releaseId}");\n`);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'dhash', version: '0.1.0' }));
  const manifest = {
    releaseId,
    version: '0.1.0',
    gitSha: 'abc1234',
    createdAt: '2026-11-28T00:00:00.000Z',
    contentSha256: 'c'.repeat(64),
  };
  await writeFile(join(dir, 'release.json'), JSON.stringify(manifest));
  await symlink(`releases/${releaseId}`, environment.currentLink);
  await mkdir(environment.sharedDir, { recursive: true });
  await writeFile(join(environment.sharedDir, 'service.json'), JSON.stringify({ maxPixels: 1000 }));
  return dir;
}

/** Runs `fn` with one connected client on `url`, always closed. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Adds library entries through the service's own PostgreSQL store (each with its change_log row). */
export async function addLibraryEntries(url: string, labels: string[]): Promise<number[]> {
  const store = await openPostgresStore({ url });
  try {
    const ids: number[] = [];
    for (const [i, label] of labels.entries()) {
      const hash = (0x1000 + i + Math.floor(Math.random() * 0xffff) * 0x10000).toString(16).padStart(16, '0');
      ids.push((await store.addLibraryEntry({ label, hash, source: 'fixture' })).id);
    }
    return ids;
  } finally {
    await store.close();
  }
}

/** The library's labels in id order. */
export async function listLabels(url: string): Promise<string[]> {
  return withClient(url, async (c) =>
    (await c.query<{ label: string }>('SELECT label FROM library_entries ORDER BY id')).rows.map((r) => r.label),
  );
}
