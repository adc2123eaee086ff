// Carry-forward on real SQLite files: changes logged after a backup's mark re-applied through the repositories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createSystemClock } from '../../../src/lib/clock.js';
import { applyCarryForward, getBackupMark, readChangesToCarry } from '../../../src/rollout/rollback/carry-forward.js';
import { closeDatabase, getChangeLogSeq, openDatabase } from '../../../src/service/store/index.js';
import {
  addLibraryEntry,
  deleteLibraryEntry,
  listLibraryEntries,
} from '../../../src/service/library/library-repository.js';
import {
  enqueueReviewItem,
  listReviewItems,
  resolveReviewItem,
} from '../../../src/service/review/review-repository.js';

test('re-applies adds, deletes, review creations and resolutions after the mark, mapping new ids; a \
review `same` is not added twice', async (t) => {
  const dir = await createTempDir(t);
  const live = join(dir, 'live.sqlite');
  const backup = join(dir, 'backup.sqlite');
  const db = openDatabase(live, { migrate: true });
  const kept = addLibraryEntry(db, { label: 'kept', hash: '0000000000000001' });
  const gone = addLibraryEntry(db, { label: 'gone', hash: '0000000000000002' });
  const before = enqueueReviewItem(db, {
    queryHash: '00000000000000a1',
    queryLabel: 'q1',
    candidateId: kept.id,
    distance: 8,
  });
  const mark = getChangeLogSeq(db);
  closeDatabase(db);
  await copyFile(live, backup); // the backup's state (the live file was closed: no WAL)

  const after = openDatabase(live);
  const added = addLibraryEntry(after, { label: 'added', hash: '0000000000000003' });
  deleteLibraryEntry(after, gone.id);
  const created = enqueueReviewItem(after, {
    queryHash: '00000000000000a2',
    queryLabel: 'q2',
    candidateId: added.id,
    distance: 9,
  });
  resolveReviewItem(after, before.id, 'same');
  resolveReviewItem(after, created.id, 'different');
  closeDatabase(after);

  assert.equal(getBackupMark(undefined, backup), mark, 'read from the backup database when the manifest has no mark');
  const toCarry = readChangesToCarry(live, backup, mark);
  assert.equal(toCarry.lineageProblem, undefined);
  const report = await applyCarryForward(backup, mark, toCarry, createSystemClock());
  assert.deepEqual(report.notCarried, []);
  assert.deepEqual(
    report.carried.map((c) => c.summary),
    [
      `library_entry add ${added.id} → ${added.id} (added)`,
      `library_entry delete ${gone.id} (gone)`,
      `review_item create ${created.id} → ${created.id}`,
      `review_item resolve ${before.id} as same`,
      `review_item resolve ${created.id} as different`,
    ],
  );
  const restored = openDatabase(backup);
  t.after(() => closeDatabase(restored));
  assert.deepEqual(
    listLibraryEntries(restored).items.map((e) => e.label),
    ['kept', 'added', 'q1'],
  );
  assert.deepEqual(
    listReviewItems(restored).items.map((i) => [i.id, i.status]),
    [
      [before.id, 'same'],
      [created.id, 'different'],
    ],
  );
});

test('a live log that does not descend from the backup carries nothing and says why', async (t) => {
  const dir = await createTempDir(t);
  const live = join(dir, 'live.sqlite');
  const other = join(dir, 'other.sqlite');
  for (const [file, label] of [
    [live, 'a'],
    [other, 'b'],
  ] as const) {
    const db = openDatabase(file, { migrate: true });
    addLibraryEntry(
      db,
      { label, hash: '0000000000000001' },
      { now: () => (label === 'a' ? 1 : 2), sleep: async () => {} },
    );
    closeDatabase(db);
  }
  const db = openDatabase(live);
  addLibraryEntry(db, { label: 'later', hash: '0000000000000002' });
  closeDatabase(db);
  const toCarry = readChangesToCarry(live, other, 1);
  assert.equal(toCarry.lineageProblem, "the live change log does not descend from the backup's (change 1 differs)");
  const report = await applyCarryForward(other, 1, toCarry, createSystemClock());
  assert.deepEqual(report.carried, []);
  assert.deepEqual(
    report.notCarried.map((c) => c.summary),
    ['library_entry add 2 (later)'],
  );
});
