// The service store on PostgreSQL: a pg Pool, every change in a write transaction with its change-log row.
import type pg from 'pg';
import { createError } from '../../../lib/errors.js';
import { createSystemClock, type Clock } from '../../../lib/clock.js';
import { normalizeNewLibraryEntry } from '../../library/library-repository.js';
import { normalizeNewReviewItem, validateVerdict } from '../../review/review-repository.js';
import { LATEST_SCHEMA_VERSION } from '../migrations/migration-list.js';
import type { ServiceStore } from '../service-store.js';
import { describePostgresUrl } from './pg-url.js';
import {
  createPostgresPool,
  withPgClient,
  withPgTransaction,
  withPgWriteTransaction,
  type PostgresPoolOptions,
} from './pg-connection.js';
import { getPgChangeLogSeq, listPgChangesSince, readPgChangeLogSeq } from './pg-change-log.js';
import { listenForChanges, type ChangeListener } from './pg-change-listener.js';
import {
  applyPendingPostgresMigrations,
  assertPostgresSchemaCurrent,
  getPostgresSchemaVersion,
} from './pg-migration-runner.js';
import {
  countPgLibraryEntries,
  deletePgLibraryEntry,
  insertPgLibraryEntry,
  listPgLibraryEntries,
  readPgLibraryHashHalves,
  selectPgLibraryEntries,
  selectPgLibraryEntry,
} from './pg-library-repository.js';
import {
  countPgPendingReviews,
  insertPgReviewItem,
  listPgReviewItems,
  resolvePgReviewItem,
  selectPgReviewItem,
} from './pg-review-repository.js';

export interface OpenPostgresStoreOptions extends PostgresPoolOptions {
  url: string;
  clock?: Clock;
  /** Apply pending migrations first (the `serve --migrate` developer shortcut). */
  migrate?: boolean;
  /** The /health probe's limit, so a hung server answers unhealthy rather than hanging the probe; default 2000. */
  healthTimeoutMs?: number;
}

/**
 * Connects (one round trip proves the server and the credentials) and returns the store. Throws
 * EDATABASEUNREACHABLE naming the database without its password; the schema is checked by assertSchemaCurrent.
 */
export async function openPostgresStore(options: OpenPostgresStoreOptions): Promise<ServiceStore> {
  const description = describePostgresUrl(options.url);
  const pool = createPostgresPool(options.url, options);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw createError('EDATABASEUNREACHABLE', { database: description, reason: (error as Error).message }, error);
  }
  try {
    if (options.migrate) await applyPendingPostgresMigrations(pool, { clock: options.clock });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return createPostgresStore(pool, { ...options, description });
}

function createPostgresStore(pool: pg.Pool, options: OpenPostgresStoreOptions & { description: string }): ServiceStore {
  const clock = options.clock ?? createSystemClock();
  const hintListeners = new Set<() => void>();
  let listener: ChangeListener | undefined;
  let closing: Promise<void> | undefined;
  return {
    engine: 'postgres',
    description: options.description,

    addLibraryEntry: async (input) => {
      const entry = normalizeNewLibraryEntry(input);
      return withPgWriteTransaction(pool, (client) => insertPgLibraryEntry(client, entry, clock));
    },
    getLibraryEntry: (id) => withPgClient(pool, (client) => selectPgLibraryEntry(client, id)),
    getLibraryEntries: (ids) => withPgClient(pool, (client) => selectPgLibraryEntries(client, ids)),
    listLibraryEntries: (paging) =>
      withPgTransaction(pool, (client) => listPgLibraryEntries(client, paging), readSnapshot),
    deleteLibraryEntry: (id) =>
      withPgWriteTransaction(pool, async (client) => {
        const entry = await deletePgLibraryEntry(client, id, clock);
        if (!entry) throw createError('ELIBRARYENTRYNOTFOUND', { id });
        return entry;
      }),
    countLibraryEntries: () => withPgClient(pool, (client) => countPgLibraryEntries(client)),
    readLibraryHashes: () =>
      withPgTransaction(
        pool,
        async (client) => ({ seq: await readPgChangeLogSeq(client), ...(await readPgLibraryHashHalves(client)) }),
        readSnapshot,
      ),

    enqueueReviewItem: async (input) => {
      const item = normalizeNewReviewItem(input);
      return withPgWriteTransaction(pool, (client) => insertPgReviewItem(client, item, clock));
    },
    getReviewItem: (id) => withPgClient(pool, (client) => selectPgReviewItem(client, id)),
    listReviewItems: (options) => withPgTransaction(pool, (client) => listPgReviewItems(client, options), readSnapshot),
    resolveReviewItem: async (id, verdict) => {
      validateVerdict(verdict);
      return withPgWriteTransaction(pool, (client) => resolvePgReviewItem(client, id, verdict, clock));
    },
    countPendingReviews: () => withPgClient(pool, (client) => countPgPendingReviews(client)),

    listChangesSince: (afterSeq, limit) => listPgChangesSince(pool, afterSeq, limit),
    getChangeLogSeq: () => getPgChangeLogSeq(pool),
    onChangeHint(onHint) {
      hintListeners.add(onHint);
      listener ??= listenForChanges({
        url: options.url,
        clock,
        onChange: () => hintListeners.forEach((notify) => notify()),
      });
      return () => hintListeners.delete(onHint);
    },

    async checkSchema() {
      try {
        const schemaVersion = await withTimeout(getPostgresSchemaVersion(pool), options.healthTimeoutMs ?? 2000, clock);
        if (schemaVersion !== LATEST_SCHEMA_VERSION) {
          return { ok: false, detail: `schema version ${schemaVersion}, expected ${LATEST_SCHEMA_VERSION}` };
        }
        return { ok: true, schemaVersion };
      } catch (error) {
        return { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    },
    assertSchemaCurrent: () => assertPostgresSchemaCurrent(pool),
    close() {
      closing ??= (async () => {
        hintListeners.clear();
        await listener?.close();
        await pool.end();
      })();
      return closing;
    },
  };
}

/** Page and total from one snapshot, so a concurrent add cannot make them disagree. */
const readSnapshot = { isolation: 'repeatable read', isReadOnly: true } as const;

/** Rejects after `timeoutMs`; the query itself goes on until the pool's statement timeout ends it. */
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, clock: Clock): Promise<T> {
  const stop = new AbortController();
  const timeout = clock.sleep(timeoutMs, stop.signal).then(() => {
    throw new Error(`the database did not answer within ${timeoutMs} ms`);
  });
  timeout.catch(() => undefined);
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    stop.abort();
  }
}
