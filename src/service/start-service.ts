// Runs the service: open and check the store (SQLite or PostgreSQL), load the index and follow the change log,
// listen; on abort, drain requests, stop following and close the store.
import type { FastifyInstance } from 'fastify';
import { createSystemClock, type Clock } from '../lib/clock.js';
import { createError } from '../lib/errors.js';
import { openServiceStore, type StoreLocation } from './store/open-service-store.js';
import type { ServiceStore } from './store/service-store.js';
import { createServiceMetrics } from './metrics.js';
import { createServer } from './server.js';
import { loadLibraryIndexFromStore } from './library/load-library-index.js';
import { startIndexFollower, type IndexFollower } from './library/index-sync.js';
import type { HashIndex } from './library/hash-index.js';
import type { RequestLogger } from './http/request-logger.js';
import type { ServiceLimits } from './service-limits.js';
import type { AdmissionLimits } from './http/admission.js';
import type { AuthSettings } from './http/auth.js';
import { formatHostPort } from '../lib/host-port.js';

export interface StartServiceOptions {
  host: string;
  /** 0 picks a free port; the bound one is in the result. */
  port: number;
  /** A SQLite file (the embedded default) or a PostgreSQL URL (from DHASH_DATABASE_URL; never logged). */
  database: StoreLocation;
  version: string;
  /** Apply pending migrations first (developer shortcut); otherwise a database behind this release is refused. */
  migrate?: boolean;
  /** When it fires: stop accepting, let in-flight requests finish, close the database, resolve `closed`. */
  signal?: AbortSignal;
  logger: RequestLogger;
  limits?: Partial<ServiceLimits>;
  admission?: Partial<AdmissionLimits>;
  /**
   * API tokens (http/auth.ts);
   * the caller decides whether an open service may listen where it does (http/auth-config.ts).
   */
  auth?: AuthSettings;
  clock?: Clock;
  /** The index follower's poll interval and staleness bound (library/index-sync.ts); the defaults keep ≤ 1 s. */
  indexSync?: { intervalMs?: number; boundMs?: number };
}

export interface RunningService {
  app: FastifyInstance;
  url: string;
  port: number;
  /** The store the routes use: its engine and description (no password) are in the listening line. */
  store: ServiceStore;
  /** Follows the change log so this host's index learns other hosts' adds and deletes. */
  follower: IndexFollower;
  /** Resolves once the server has drained and the database is closed. */
  closed: Promise<void>;
  /** Same as aborting the signal; idempotent. */
  close(): Promise<void>;
}

/**
 * Throws the store's DhashError (ESCHEMABEHIND, ESCHEMAAHEAD, EMIGRATIONEDITED...)
 * before listening when the database is not usable.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const clock = options.clock ?? createSystemClock();
  const store = await openServiceStore(options.database, { migrate: options.migrate === true, clock });
  let app: FastifyInstance;
  let follower: IndexFollower | undefined;
  let index: HashIndex;
  try {
    await store.assertSchemaCurrent();
    const metrics = createServiceMetrics({ version: options.version });
    const loaded = await loadLibraryIndexFromStore(store);
    index = loaded.index;
    follower = startIndexFollower({
      store,
      index,
      startSeq: loaded.seq,
      clock,
      logger: options.logger,
      ...options.indexSync,
    });
    const sync = follower;
    app = createServer({
      store,
      index,
      sync,
      metrics,
      logger: options.logger,
      version: options.version,
      limits: options.limits,
      admission: options.admission,
      auth: options.auth,
    });
    // Runs after fastify has stopped accepting and every in-flight request has been answered.
    app.addHook('onClose', async () => {
      await sync.close();
      await store.close();
    });
    // Node's default accept backlog (511) drops SYNs when a thousand clients connect at once, and a dropped SYN
    // is retried after 1 s: a refusal that should take a millisecond takes a second. The kernel caps it at somaxconn.
    await app.listen({ host: options.host, port: options.port, backlog: 4096 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      throw createError('EPORTINUSE', { address: formatHostPort(options.host, options.port) }, error);
    });
  } catch (error) {
    await follower?.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${formatHostPort(options.host, port)}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      options.logger.info('draining in-flight requests, then closing the database');
      await app.close();
      options.logger.info('service stopped');
    })();
    return closing;
  };
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const closeAndResolve = () =>
    close().then(resolveClosed, (error: unknown) => {
      options.logger.error({ err: error }, 'closing the service failed');
      resolveClosed();
    });
  if (options.signal?.aborted) void closeAndResolve();
  else options.signal?.addEventListener('abort', () => void closeAndResolve(), { once: true });
  options.logger.info(
    {
      url,
      version: options.version,
      engine: store.engine,
      database: store.description,
      // Which probe loop serves matches: 'js' means the native addon is not built (slower at millions of entries).
      library: { entries: index.size, matchKernel: index.kernel },
    },
    `dhash service listening on ${url}`,
  );
  return { app, url, port, store, follower, closed, close: () => closeAndResolve().then(() => closed) };
}
