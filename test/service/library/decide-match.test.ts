import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideMatch } from '../../../src/service/library/decide-match.js';

test('distance up to 4 is a match, 5 to 10 needs review, above 10 is none', () => {
  assert.deepEqual(
    [0, 4, 5, 10, 11, 64].map((d) => decideMatch(d)),
    ['match', 'match', 'review', 'review', 'none', 'none'],
  );
  assert.equal(decideMatch(undefined), 'none');
});

test('moving the thresholds moves the boundaries', () => {
  const t = { matchMax: 2, reviewMax: 6 };
  assert.deepEqual(
    [2, 3, 6, 7].map((d) => decideMatch(d, t)),
    ['match', 'review', 'review', 'none'],
  );
  assert.deepEqual(
    [0, 1].map((d) => decideMatch(d, { matchMax: 0, reviewMax: 0 })),
    ['match', 'none'],
  );
});
