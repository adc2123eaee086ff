// The index follower on a manual clock: another handle's changes reach the index at the next poll, idempotently;
// failures, slowness and a rewound log turn its state degraded past the bound; close stops it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock, type ManualClock } from '../../../src/lib/clock.js';
import { HashIndex } from '../../../src/service/library/hash-index.js';
import {
  INDEX_SYNC_BOUND_MS,
  INDEX_SYNC_INTERVAL_MS,
  startIndexFollower,
  type IndexFollower,
} from '../../../src/service/library/index-sync.js';
import { openSqliteStore } from '../../../src/service/store/sqlite-store.js';
import type { ServiceStore } from '../../../src/service/store/service-store.js';

const HASH_A = '0123456789abcdef';
const HASH_B = 'fedcba9876543210';

/** Two handles on one migrated file: `writer` stands for another process, `reader` is the follower's own. */
async function openPair(t: TestContext): Promise<{ writer: ServiceStore; reader: ServiceStore }> {
  const file = join(await createTempDir(t), 'dhash.sqlite');
  const writer = openSqliteStore(file, { migrate: true });
  const reader = openSqliteStore(file);
  t.after(async () => {
    await reader.close();
    await writer.close();
  });
  return { writer, reader };
}

function follow(t: TestContext, store: FollowerStore, clock: ManualClock, index = new HashIndex()) {
  const follower = startIndexFollower({ store, index, startSeq: 0, clock });
  t.after(() => follower.close());
  return { follower, index };
}

type FollowerStore = Pick<ServiceStore, 'listChangesSince' | 'getChangeLogSeq' | 'onChangeHint'>;

const ids = (index: HashIndex, hash: string) => index.search(hash, 0).map((hit) => hit.id);

test('the index learns another handle’s add and delete at the next poll, not before', async (t) => {
  assert.equal(INDEX_SYNC_INTERVAL_MS, 200);
  assert.equal(INDEX_SYNC_BOUND_MS, 1000);
  const clock = createManualClock();
  const { writer, reader } = await openPair(t);
  const { follower, index } = follow(t, reader, clock);
  const entry = await writer.addLibraryEntry({ label: 'a', hash: HASH_A });
  await clock.advance(199);
  assert.deepEqual(ids(index, HASH_A), [], 'no poll yet');
  await clock.advance(1);
  assert.deepEqual(ids(index, HASH_A), [entry.id]);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 1, lagMs: 0 });
  await writer.enqueueReviewItem({ queryHash: HASH_B, candidateId: entry.id, distance: 3 });
  await writer.deleteLibraryEntry(entry.id);
  await clock.advance(200);
  assert.deepEqual(ids(index, HASH_A), []);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 3, lagMs: 0 });
});

test('changes the index already has (this host’s own writes) and changes seen twice change nothing', async (t) => {
  const clock = createManualClock();
  const { writer, reader } = await openPair(t);
  const index = new HashIndex();
  const own = await writer.addLibraryEntry({ label: 'own', hash: HASH_A });
  index.add(own.id, own.hash);
  const gone = await writer.addLibraryEntry({ label: 'gone', hash: HASH_B });
  // Deleted here before the follower saw its add: the add and the delete arrive in one batch, in order.
  await writer.deleteLibraryEntry(gone.id);
  const { follower } = follow(t, reader, clock, index);
  await clock.advance(200);
  assert.equal(index.size, 1);
  assert.deepEqual(ids(index, HASH_A), [own.id]);
  assert.deepEqual(ids(index, HASH_B), []);
  assert.equal(follower.getState().seq, 3);
});

test('more than one batch of changes is applied in one poll', async (t) => {
  const clock = createManualClock();
  const { writer, reader } = await openPair(t);
  for (let i = 0; i < 1500; i++)
    await writer.addLibraryEntry({ label: `e${i}`, hash: (BigInt(i) * 7919n).toString(16).padStart(16, '0') });
  const { follower, index } = follow(t, reader, clock);
  await clock.advance(200);
  assert.equal(index.size, 1500);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 1500, lagMs: 0 });
});

/** A store that fails (or hangs) on demand: the follower's view of an unreachable database. */
function createFlakyStore(real: FollowerStore) {
  let failure: Error | undefined;
  let hold: Promise<void> | undefined;
  let calls = 0;
  let headSeq: number | undefined;
  const store: FollowerStore = {
    async listChangesSince(afterSeq, limit) {
      calls++;
      if (hold) await hold;
      if (failure) throw failure;
      return real.listChangesSince(afterSeq, limit);
    },
    getChangeLogSeq: async () => headSeq ?? real.getChangeLogSeq(),
    onChangeHint: real.onChangeHint,
  };
  return {
    store,
    fail: (message: string | undefined) => (failure = message === undefined ? undefined : new Error(message)),
    holdPolls: () => {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
    setHeadSeq: (seq: number) => (headSeq = seq),
    countCalls: () => calls,
  };
}

test('a failing store turns the state degraded once the bound has passed, naming the error; it recovers', async (t) => {
  const clock = createManualClock();
  const { reader } = await openPair(t);
  const flaky = createFlakyStore(reader);
  const { follower } = follow(t, flaky.store, clock);
  flaky.fail('database is gone');
  await clock.advance(1000);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 0, lagMs: 1000 }, 'within the bound it is still ok');
  await clock.advance(200);
  assert.deepEqual(follower.getState(), {
    status: 'degraded',
    seq: 0,
    lagMs: 1200,
    detail: 'index sync has failed for 1200 ms: database is gone',
  });
  flaky.fail(undefined);
  await clock.advance(200);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 0, lagMs: 0 });
});

test('a poll slower than the bound turns the state degraded as behind, without an error', async (t) => {
  const clock = createManualClock();
  const { reader } = await openPair(t);
  const flaky = createFlakyStore(reader);
  const { follower } = follow(t, flaky.store, clock);
  const release = flaky.holdPolls();
  await clock.advance(1300);
  assert.deepEqual(follower.getState(), {
    status: 'degraded',
    seq: 0,
    lagMs: 1300,
    detail: 'index sync is 1300 ms behind the change log (bound 1000 ms)',
  });
  assert.equal(flaky.countCalls(), 1, 'polls never overlap');
  release();
  await clock.advance(0);
  // The held poll started at 200 ms: the index is current as of then, still past the bound; the next poll is not.
  assert.equal(follower.getState().detail, 'index sync is 1100 ms behind the change log (bound 1000 ms)');
  await clock.advance(200);
  assert.deepEqual(follower.getState(), { status: 'ok', seq: 0, lagMs: 0 });
});

test('a change log whose head fell below the applied seq (a restore) leaves the state degraded', async (t) => {
  const clock = createManualClock();
  const { writer, reader } = await openPair(t);
  const flaky = createFlakyStore(reader);
  await writer.addLibraryEntry({ label: 'a', hash: HASH_A });
  await writer.addLibraryEntry({ label: 'b', hash: HASH_B });
  const { follower } = follow(t, flaky.store, clock);
  await clock.advance(200);
  flaky.setHeadSeq(1);
  await clock.advance(200);
  const expected = {
    status: 'degraded',
    seq: 2,
    lagMs: 0,
    detail:
      'the change log went back from seq 2 to 1 (the database was restored?): restart the service to reload its index',
  };
  assert.deepEqual(follower.getState(), expected);
  flaky.setHeadSeq(5);
  await clock.advance(200);
  assert.deepEqual(follower.getState(), expected, 'it stays degraded');
});

test('a change hint polls at once, without waiting for the interval', async (t) => {
  const clock = createManualClock();
  const { writer, reader } = await openPair(t);
  let hint: (() => void) | undefined;
  const store: FollowerStore = { ...reader, onChangeHint: (listener) => ((hint = listener), () => (hint = undefined)) };
  const { index } = follow(t, store, clock);
  const entry = await writer.addLibraryEntry({ label: 'a', hash: HASH_A });
  hint!();
  await clock.advance(0);
  assert.deepEqual(ids(index, HASH_A), [entry.id]);
});

test('close stops polling and unsubscribes; the state says stopped', async (t) => {
  const clock = createManualClock();
  const { reader } = await openPair(t);
  const flaky = createFlakyStore(reader);
  let isSubscribed = false;
  const store: FollowerStore = {
    ...flaky.store,
    onChangeHint: () => ((isSubscribed = true), () => (isSubscribed = false)),
  };
  const follower: IndexFollower = startIndexFollower({ store, index: new HashIndex(), startSeq: 0, clock });
  await clock.advance(400);
  assert.equal(flaky.countCalls(), 2);
  assert.equal(isSubscribed, true);
  await follower.close();
  await follower.close();
  await clock.advance(1000);
  assert.equal(flaky.countCalls(), 2, 'no poll after close');
  assert.equal(isSubscribed, false);
  assert.equal(follower.getState().status, 'stopped');
  assert.equal(clock.pending(), 0, 'no timer left behind');
});
