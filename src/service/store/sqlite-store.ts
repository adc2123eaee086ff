// The service store on SQLite: the synchronous repositories (which the rollout's carry-forward also uses) behind
// the async ServiceStore interface.
import { createSystemClock, type Clock } from '../../lib/clock.js';
import {
  addLibraryEntry,
  countLibraryEntries,
  deleteLibraryEntry,
  getLibraryEntry,
  listLibraryEntries,
  readLibraryHashHalves,
  type LibraryEntry,
} from '../library/library-repository.js';
import {
  countPendingReviews,
  enqueueReviewItem,
  getReviewItem,
  listReviewItems,
  resolveReviewItem,
} from '../review/review-repository.js';
import { getChangeLogSeq, listChangesSince } from './change-log.js';
import { closeDatabase, openDatabase, type Db, type OpenDatabaseOptions } from './database.js';
import { assertSchemaCurrent, getSchemaVersion, LATEST_SCHEMA_VERSION } from './migration-runner.js';
import type { LibrarySnapshot, SchemaCheck, ServiceStore } from './service-store.js';

/** Opens the file (creating it unless told otherwise, migrating it if asked) and wraps it. */
export function openSqliteStore(file: string, options: OpenDatabaseOptions & { clock?: Clock } = {}): ServiceStore {
  return createSqliteStore(openDatabase(file, options), options);
}

/** Wraps an open handle; the store's close() closes it. */
export function createSqliteStore(db: Db, options: { clock?: Clock } = {}): ServiceStore {
  const clock = options.clock ?? createSystemClock();
  // `async` turns the repositories' throws into rejections, as the PostgreSQL store's errors are.
  return {
    engine: 'sqlite',
    description: db.name,
    addLibraryEntry: async (input) => addLibraryEntry(db, input, clock),
    getLibraryEntry: async (id) => getLibraryEntry(db, id),
    getLibraryEntries: async (ids) =>
      ids.flatMap((id): LibraryEntry[] => {
        const entry = getLibraryEntry(db, id);
        return entry ? [entry] : [];
      }),
    listLibraryEntries: async (paging) => listLibraryEntries(db, paging),
    deleteLibraryEntry: async (id) => deleteLibraryEntry(db, id, clock),
    countLibraryEntries: async () => countLibraryEntries(db),
    readLibraryHashes: async () => readLibrarySnapshot(db),
    enqueueReviewItem: async (input) => enqueueReviewItem(db, input, clock),
    getReviewItem: async (id) => getReviewItem(db, id),
    listReviewItems: async (options) => listReviewItems(db, options),
    resolveReviewItem: async (id, verdict) => resolveReviewItem(db, id, verdict, clock),
    countPendingReviews: async () => countPendingReviews(db),
    listChangesSince: async (afterSeq, limit = 1000) => listChangesSince(db, afterSeq, limit),
    getChangeLogSeq: async () => getChangeLogSeq(db),
    // Another process's commit sends no signal through a SQLite file: followers find it by polling.
    onChangeHint: () => () => undefined,
    checkSchema: async () => checkSqliteSchema(db),
    assertSchemaCurrent: async () => assertSchemaCurrent(db),
    close: async () => closeDatabase(db),
  };
}

/** The library and the change-log seq in one read transaction: a WAL reader sees one snapshot throughout. */
function readLibrarySnapshot(db: Db): LibrarySnapshot {
  return db.transaction(() => ({ seq: getChangeLogSeq(db), ...readLibraryHashHalves(db) }))();
}

/** `select 1` proves the handle works; the schema version proves it is the database this release expects. */
function checkSqliteSchema(db: Db): SchemaCheck {
  try {
    db.prepare('SELECT 1').get();
    const schemaVersion = getSchemaVersion(db);
    if (schemaVersion !== LATEST_SCHEMA_VERSION) {
      return { ok: false, detail: `schema version ${schemaVersion}, expected ${LATEST_SCHEMA_VERSION}` };
    }
    return { ok: true, schemaVersion };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
