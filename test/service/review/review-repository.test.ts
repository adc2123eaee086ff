import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { closeDatabase, openDatabase } from '../../../src/service/store/index.js';
import {
  addLibraryEntry,
  countLibraryEntries,
  deleteLibraryEntry,
  getLibraryEntry,
} from '../../../src/service/library/index.js';
import {
  countPendingReviews,
  enqueueReviewItem,
  getReviewItem,
  listReviewItems,
  resolveReviewItem,
} from '../../../src/service/review/index.js';

async function setup(t: Parameters<typeof createTempDir>[0]) {
  const db = openDatabase(join(await createTempDir(t), 'db.sqlite'), { migrate: true });
  t.after(async () => closeDatabase(db));
  const clock = createManualClock(Date.parse('2026-11-28T02:00:00.000Z'));
  const candidate = addLibraryEntry(db, { label: 'logo', hash: '0f0f0f0f0f0f0f0f' }, clock);
  const enqueue = (queryHash: string, queryLabel?: string) =>
    enqueueReviewItem(
      db,
      {
        queryHash,
        queryLabel,
        candidateId: candidate.id,
        candidateLabel: candidate.label,
        candidateHash: candidate.hash,
        distance: 7,
      },
      clock,
    );
  return { db, clock, candidate, enqueue };
}

test('enqueues pending items, counts and lists them by status', async (t) => {
  const { db, enqueue } = await setup(t);
  const item = enqueue('0f0f0f0f0f0f007f');
  assert.deepEqual(item, {
    id: 1,
    queryHash: '0f0f0f0f0f0f007f',
    queryLabel: null,
    querySource: null,
    candidateId: 1,
    candidateLabel: 'logo',
    candidateHash: '0f0f0f0f0f0f0f0f',
    distance: 7,
    status: 'pending',
    createdAt: '2026-11-28T02:00:00.000Z',
    resolvedAt: null,
    resolvedEntryId: null,
  });
  enqueue('0f0f0f0f0f0f00ff');
  enqueue('0f0f0f0f0f0f01ff');
  assert.equal(countPendingReviews(db), 3);
  resolveReviewItem(db, 2, 'different');
  assert.equal(countPendingReviews(db), 2);
  assert.deepEqual(
    listReviewItems(db, { status: 'pending' }).items.map((i) => i.id),
    [1, 3],
  );
  assert.deepEqual(
    listReviewItems(db, { status: 'different' }).items.map((i) => i.id),
    [2],
  );
  assert.equal(listReviewItems(db, { limit: 1 }).total, 3);
  assert.throws(
    () => listReviewItems(db, { status: 'done' as never }),
    (e) => isDhashError(e, 'EINVALIDOPTION') && e.message.includes('`status`'),
  );
});

test('resolving same adds the query hash to the library in the same transaction', async (t) => {
  const { db, clock, enqueue } = await setup(t);
  enqueue('0f0f0f0f0f0f007f', 'logo (scan)');
  await clock.advance(60_000);
  const result = resolveReviewItem(db, 1, 'same', clock);
  assert.deepEqual(result.libraryEntry, {
    id: 2,
    label: 'logo (scan)',
    hash: '0f0f0f0f0f0f007f',
    source: 'review:1',
    createdAt: '2026-11-28T02:01:00.000Z',
  });
  assert.equal(result.item.status, 'same');
  assert.equal(result.item.resolvedAt, '2026-11-28T02:01:00.000Z');
  assert.equal(result.item.resolvedEntryId, 2);
  assert.deepEqual(getLibraryEntry(db, 2), result.libraryEntry);
});

test('resolving same without a query label uses the candidate label; different adds nothing', async (t) => {
  const { db, enqueue } = await setup(t);
  enqueue('0f0f0f0f0f0f007f');
  enqueue('0f0f0f0f0f0f00ff');
  assert.equal(resolveReviewItem(db, 1, 'same').libraryEntry?.label, 'logo');
  assert.equal(resolveReviewItem(db, 2, 'different').libraryEntry, undefined);
  assert.equal(countLibraryEntries(db), 2);
});

test('resolving twice is refused and changes nothing; unknown ids and verdicts are named', async (t) => {
  const { db, enqueue } = await setup(t);
  enqueue('0f0f0f0f0f0f007f');
  resolveReviewItem(db, 1, 'same');
  const before = getReviewItem(db, 1);
  assert.throws(
    () => resolveReviewItem(db, 1, 'different'),
    (e) =>
      isDhashError(e, 'EREVIEWALREADYRESOLVED') &&
      e.exitCode === 3 &&
      e.message === 'Review item 1 is already resolved as `same`.',
  );
  assert.throws(
    () => resolveReviewItem(db, 1, 'same'),
    (e) => isDhashError(e, 'EREVIEWALREADYRESOLVED'),
  );
  assert.deepEqual(getReviewItem(db, 1), before);
  assert.equal(countLibraryEntries(db), 2);
  assert.throws(
    () => resolveReviewItem(db, 9, 'same'),
    (e) => isDhashError(e, 'EREVIEWITEMNOTFOUND') && e.message === 'Review item 9 does not exist.',
  );
  assert.throws(
    () => resolveReviewItem(db, 1, 'maybe' as never),
    (e) => isDhashError(e, 'EINVALIDOPTION'),
  );
});

test('deleting the candidate keeps the review item with its snapshot', async (t) => {
  const { db, enqueue, candidate } = await setup(t);
  enqueue('0f0f0f0f0f0f007f');
  deleteLibraryEntry(db, candidate.id);
  const item = getReviewItem(db, 1)!;
  assert.equal(item.candidateId, null);
  assert.equal(item.candidateLabel, 'logo');
  assert.equal(item.candidateHash, '0f0f0f0f0f0f0f0f');
});
