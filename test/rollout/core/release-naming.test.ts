// Release ids, deploy ids and the pruning choice: pure, with literal inputs and exact outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseReleasesToPrune,
  createDeployId,
  createReleaseId,
  formatCompactUtc,
  isReleaseId,
} from '../../../src/rollout/core/release-naming.js';

const at = Date.UTC(2026, 10, 28, 1, 15, 0, 123);

test('formats UTC to the millisecond so ids sort chronologically as text', () => {
  assert.equal(formatCompactUtc(at), '20261128T011500123Z');
  assert.equal(createDeployId('local', at), 'local-20261128T011500123Z');
});

test(`names a release <UTC ts>-<version>-<git short sha>, a safe folder name whose dashes only separate the \
parts`, () => {
  assert.equal(
    createReleaseId({ createdAtMs: at, version: '0.1.0', gitSha: 'ab12cd3' }),
    '20261128T011500123Z-0.1.0-ab12cd3',
  );
  assert.equal(
    createReleaseId({ createdAtMs: at, version: '1.0.0-rc/1', gitSha: 'x y' }),
    '20261128T011500123Z-1.0.0_rc_1-x_y',
  );
  assert.equal(isReleaseId('20261128T011500123Z-0.1.0-ab12cd3'), true);
  assert.equal(isReleaseId('.20261128T011500123Z-0.1.0-ab12cd3.tmp-1'), false);
});

const ids = [
  '20261128T000001000Z-a',
  '20261128T000002000Z-b',
  '20261128T000003000Z-c',
  '20261128T000004000Z-d',
  '20261128T000005000Z-e',
];

test('prunes the oldest releases beyond keep', () => {
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ids, keep: 3, current: ids[4], previous: ids[3] }), [
    ids[0],
    ids[1],
  ]);
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ids, keep: 5, current: ids[4] }), []);
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ids, keep: 4, current: ids[4] }), [ids[0]]);
});

test('never prunes current nor the previous release, even when they are the oldest', () => {
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ids, keep: 2, current: ids[0], previous: ids[1] }), [
    ids[2],
    ids[3],
    ids[4],
  ]);
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ids, keep: 1, current: ids[2], previous: ids[0] }), [
    ids[1],
    ids[3],
    ids[4],
  ]);
});

test('ignores temp and staging folders', () => {
  assert.deepEqual(chooseReleasesToPrune({ releaseIds: ['.x.tmp', ...ids.slice(0, 2)], keep: 1, current: ids[1] }), [
    ids[0],
  ]);
});
