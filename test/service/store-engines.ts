// The two store engines for suites that run the same cases on both: a SQLite file in a temp dir, or a database of
// its own on one real PostgreSQL 15 server started for the test file; and a real service (startService) over either.
import { after, type TestContext } from 'node:test';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createTempDir } from '../helpers/temp-dir.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { readSample } from '../helpers/service.js';
import { createRedactor } from '../../src/lib/redact.js';
import type { Clock } from '../../src/lib/clock.js';
import { createRequestLogger } from '../../src/service/http/request-logger.js';
import { startService, type RunningService, type StartServiceOptions } from '../../src/service/start-service.js';
import type { StoreEngine } from '../../src/service/store/service-store.js';
import type { StoreLocation } from '../../src/service/store/open-service-store.js';

export const STORE_ENGINES: readonly StoreEngine[] = ['sqlite', 'postgres'];

export interface StoreEngines {
  /** A location no migration has touched: a new file, or a new PostgreSQL database. */
  createLocation(t: TestContext, engine: StoreEngine): Promise<StoreLocation>;
  /** The file's shared server (started on first use, stopped after the file's last test). */
  getPostgres(): Promise<PostgresServer>;
}

/** Call once at the top of a test file: one PostgreSQL server for the whole file, a database per location. */
export function useStoreEngines(): StoreEngines {
  let server: Promise<PostgresServer> | undefined;
  let databases = 0;
  const getPostgres = () => (server ??= startPostgres());
  after(async () => {
    if (server) await (await server).stop();
  });
  return {
    getPostgres,
    async createLocation(t, engine) {
      if (engine === 'sqlite') return { engine, file: join(await createTempDir(t), 'dhash.sqlite') };
      const url = await (await getPostgres()).createDatabase(`dhash_test_${process.pid}_${++databases}`);
      return { engine, url };
    },
  };
}

export interface EngineService extends RunningService {
  readLogLines(): Record<string, unknown>[];
  readMetric(sample: string): Promise<number>;
}

/** The real service (store, index, follower, routes) on 127.0.0.1:0 over `location`; closed when the test ends. */
export async function startEngineService(
  t: TestContext,
  location: StoreLocation,
  options: { migrate?: boolean; clock?: Clock } & Partial<Pick<StartServiceOptions, 'indexSync' | 'limits'>> = {},
): Promise<EngineService> {
  const stream = new PassThrough();
  let logText = '';
  stream.on('data', (chunk) => (logText += chunk));
  const service = await startService({
    host: '127.0.0.1',
    port: 0,
    database: location,
    version: '9.8.7-test',
    migrate: options.migrate ?? true,
    logger: createRequestLogger({ stream, redact: createRedactor({}) }),
    clock: options.clock,
    indexSync: options.indexSync,
    limits: options.limits,
  });
  t.after(() => service.close());
  return {
    ...service,
    readLogLines: () =>
      logText
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    readMetric: async (sample) => readSample(await (await fetch(`${service.url}/metrics`)).text(), sample),
  };
}
