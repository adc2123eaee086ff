// Keeps this host's in-memory HashIndex current with the library changes other hosts (or processes) commit, by
// following the store's change_log.
//
// The bound: a library add or delete committed anywhere is in every running service's index within 1 s. Each follower
// polls `seq > lastSeq` every 200 ms (and at once on a PostgreSQL NOTIFY), so a change waits at most one interval
// plus one poll. Seq order is commit order on both engines (SQLite has one writer; PostgreSQL writers serialize on the
// change-log lock), so reading past a seq never skips a change still to commit. When the follower cannot keep that
// promise (the store errors, polls are too slow, the log went backwards) its state is `degraded` and /health answers
// 503 naming it, rather than serving a stale index as if it were current.
import type { Clock } from '../../lib/clock.js';
import type { ChangeRecord } from '../store/change-log.js';
import type { ServiceStore } from '../store/service-store.js';
import type { HashIndex } from './hash-index.js';

export const INDEX_SYNC_INTERVAL_MS = 200;
/** The promise above: every change older than this is in the index, or the follower says it is degraded. */
export const INDEX_SYNC_BOUND_MS = 1000;
const BATCH_SIZE = 1000;

export interface IndexSyncState {
  status: 'ok' | 'degraded' | 'stopped';
  /** The seq of the last change applied (or of the snapshot the index was loaded from). */
  seq: number;
  /** Milliseconds since a poll last reached the head of the log. */
  lagMs: number;
  /** Why it is degraded. */
  detail?: string;
}

export interface IndexFollower {
  getState(): IndexSyncState;
  /** Polls now (joining a poll in flight); resolves when it has finished, successfully or not. Never rejects. */
  pollNow(): Promise<void>;
  /** Stops polling and listening; resolves after the poll in flight. Idempotent. */
  close(): Promise<void>;
}

export interface IndexFollowerOptions {
  store: Pick<ServiceStore, 'listChangesSince' | 'getChangeLogSeq' | 'onChangeHint'>;
  index: HashIndex;
  /** The seq the index was loaded at (LibrarySnapshot.seq). */
  startSeq: number;
  clock: Clock;
  logger?: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
  intervalMs?: number;
  boundMs?: number;
}

/**
 * Applies one change to the index; idempotent, so this host's own writes (already applied by the route that made
 * them) and a change seen twice are harmless. Ids are never reused, so an add and its delete cannot be confused.
 */
export function applyChangeToIndex(index: HashIndex, change: ChangeRecord): void {
  if (change.entity !== 'library_entry') return;
  if (change.kind === 'add' && !index.has(change.entityId)) index.add(change.entityId, String(change.payload.hash));
  else if (change.kind === 'delete') index.remove(change.entityId);
}

export function startIndexFollower(options: IndexFollowerOptions): IndexFollower {
  const { store, index, clock } = options;
  const intervalMs = options.intervalMs ?? INDEX_SYNC_INTERVAL_MS;
  const boundMs = options.boundMs ?? INDEX_SYNC_BOUND_MS;
  let lastSeq = options.startSeq;
  let caughtUpAtMs = clock.now();
  let failure: string | undefined;
  let rewound: string | undefined;
  let isClosed = false;
  let inFlight: Promise<void> | undefined;
  let wake = new AbortController();

  /** Reads and applies batches until one comes back short: the head as of this poll. */
  const pollOnce = async (): Promise<void> => {
    const startedMs = clock.now();
    try {
      let changes: ChangeRecord[];
      let isFirstBatch = true;
      do {
        changes = await store.listChangesSince(lastSeq, BATCH_SIZE);
        for (const change of changes) {
          applyChangeToIndex(index, change);
          lastSeq = change.seq;
        }
        if (isFirstBatch && changes.length === 0) rewound ??= await checkRewound();
        isFirstBatch = false;
      } while (changes.length === BATCH_SIZE && !isClosed);
      caughtUpAtMs = startedMs;
      if (failure !== undefined) options.logger?.info({ seq: lastSeq }, 'index sync recovered');
      failure = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (failure === undefined) options.logger?.warn({ seq: lastSeq, reason: message }, 'index sync poll failed');
      failure = message;
    }
  };

  /** A log whose head is below what was applied was replaced (a restore): new changes would be missed. Sticky. */
  const checkRewound = async (): Promise<string | undefined> => {
    const headSeq = await store.getChangeLogSeq();
    if (headSeq >= lastSeq) return undefined;
    const detail =
      `the change log went back from seq ${lastSeq} to ${headSeq} (the database was restored?): ` +
      'restart the service to reload its index';
    if (rewound === undefined) options.logger?.warn({ seq: lastSeq, headSeq }, detail);
    return detail;
  };

  const pollNow = (): Promise<void> => (inFlight ??= pollOnce().finally(() => (inFlight = undefined)));

  const unsubscribe = store.onChangeHint(() => wake.abort());
  const loop = (async () => {
    while (!isClosed) {
      await clock.sleep(intervalMs, wake.signal).catch(() => undefined);
      if (wake.signal.aborted) wake = new AbortController();
      if (!isClosed) await pollNow();
    }
  })();

  return {
    getState() {
      const lagMs = Math.max(0, clock.now() - caughtUpAtMs);
      if (isClosed) return { status: 'stopped', seq: lastSeq, lagMs };
      if (rewound) return { status: 'degraded', seq: lastSeq, lagMs, detail: rewound };
      if (lagMs <= boundMs) return { status: 'ok', seq: lastSeq, lagMs };
      const detail = failure
        ? `index sync has failed for ${lagMs} ms: ${failure}`
        : `index sync is ${lagMs} ms behind the change log (bound ${boundMs} ms)`;
      return { status: 'degraded', seq: lastSeq, lagMs, detail };
    },
    pollNow,
    async close() {
      if (isClosed) return loop;
      isClosed = true;
      unsubscribe();
      wake.abort();
      await loop;
      await inFlight;
    },
  };
}
