// The release history a fleet host keeps for rollbacks: pure bookkeeping, literal inputs and outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutToRelease, getPreviousReleaseId, pushRelease } from '../../../src/rollout/host/release-history.js';

test('an activation puts the release on top, moving it if it was recorded before', () => {
  assert.deepEqual(pushRelease({ releaseIds: ['a', 'b'] }, 'c'), ['a', 'b', 'c']);
  assert.deepEqual(pushRelease({ releaseIds: ['a', 'b', 'c'] }, 'a'), ['b', 'c', 'a']);
});

test('the previous release is the newest recorded one that is not current and still on disk', () => {
  const history = { releaseIds: ['a', 'b', 'c'] };
  assert.equal(getPreviousReleaseId(history, 'c', ['a', 'b', 'c']), 'b');
  assert.equal(getPreviousReleaseId(history, 'c', ['a', 'c']), 'a', 'b was pruned');
  assert.equal(getPreviousReleaseId(history, 'x', ['a', 'b', 'c', 'x']), 'c', 'current changed by hand');
  assert.equal(getPreviousReleaseId({ releaseIds: ['c'] }, 'c', ['c']), undefined);
});

test('a rollback cuts the releases above its target, so a second rollback goes further back, never forward', () => {
  assert.deepEqual(cutToRelease({ releaseIds: ['a', 'b', 'c'] }, 'c', 'b'), ['a', 'b']);
  assert.deepEqual(cutToRelease({ releaseIds: ['a', 'b', 'c'] }, 'c', 'a'), ['a']);
  assert.deepEqual(cutToRelease({ releaseIds: ['a', 'c'] }, 'c', 'z'), ['a', 'z'], 'a target never recorded');
});
