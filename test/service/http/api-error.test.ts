import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toErrorAnswer, ApiError } from '../../../src/service/http/api-error.js';
import { createError, isDhashError } from '../../../src/lib/errors.js';
import { ImageInputError } from '../../../src/service/hash/image-input-error.js';

test('each coded error answers with the HTTP status declared beside its code', () => {
  const cases: [unknown, number, string][] = [
    [createError('ELIBRARYENTRYNOTFOUND', { id: 7 }), 404, 'ELIBRARYENTRYNOTFOUND'],
    [createError('EREVIEWITEMNOTFOUND', { id: 7 }), 404, 'EREVIEWITEMNOTFOUND'],
    [createError('EREVIEWALREADYRESOLVED', { id: 7, status: 'same' }), 409, 'EREVIEWALREADYRESOLVED'],
    [createError('EINVALIDHASH', { field: 'hash', actual: 'zz' }), 400, 'EINVALIDHASH'],
    [createError('EINVALIDOPTION', { option: 'limit', expected: 'an integer', actual: -1 }), 400, 'EINVALIDOPTION'],
    // A toolkit error that reaches the service is our fault, not the caller's.
    [createError('EDATABASENOTFOUND', { file: '/x.sqlite' }), 500, 'EDATABASENOTFOUND'],
    [new ImageInputError('ETOOMANYPIXELS', 'too many pixels'), 413, 'ETOOMANYPIXELS'],
    [new ApiError(415, 'EUNSUPPORTEDMEDIATYPE', 'wrong type'), 415, 'EUNSUPPORTEDMEDIATYPE'],
  ];
  for (const [error, status, code] of cases) {
    const answer = toErrorAnswer(error);
    assert.equal(answer.statusCode, status, code);
    assert.equal(answer.body.error.code, code);
    assert.equal(answer.isServerFault, status >= 500, code);
  }
});

test('the service input errors and the route refusals are the same coded error type as the toolkit', () => {
  assert.ok(isDhashError(new ImageInputError('EBADIMAGE', 'not an image')));
  assert.ok(isDhashError(new ApiError(400, 'EBADREQUEST', 'bad')));
  assert.equal(new ImageInputError('EBADIMAGE', 'not an image').exitCode, 2);
});

test('an uncoded error is a 500 that hides its message from the client', () => {
  const answer = toErrorAnswer(new Error('secret internals'));
  assert.deepEqual(answer, {
    statusCode: 500,
    body: {
      error: { code: 'EINTERNAL', message: 'The service failed to handle the request; the error is in its log.' },
    },
    isServerFault: true,
  });
});
