import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, toErrorAnswer } from '../../../src/service/http/api-error.js';
import { ImageInputError } from '../../../src/service/hash/image-input-error.js';
import { PdfInputError } from '../../../src/service/pdf/pdf-input-error.js';
import { createError } from '../../../src/lib/errors.js';

const codeAndStatus = (error: unknown) => {
  const answer = toErrorAnswer(error);
  return [answer.statusCode, answer.body.error.code];
};

test('maps input errors, store errors and fastify errors to status and API code', () => {
  assert.deepEqual(codeAndStatus(new ApiError(415, 'EUNSUPPORTEDMEDIATYPE', 'no')), [415, 'EUNSUPPORTEDMEDIATYPE']);
  assert.deepEqual(codeAndStatus(new ImageInputError('ETRUNCATED', 'cut')), [422, 'ETRUNCATED']);
  assert.deepEqual(codeAndStatus(new PdfInputError('EPDFTIMEOUT', 'slow')), [422, 'EPDFTIMEOUT']);
  assert.deepEqual(codeAndStatus(createError('ELIBRARYENTRYNOTFOUND', { id: 4 })), [404, 'ELIBRARYENTRYNOTFOUND']);
  assert.deepEqual(codeAndStatus(createError('EREVIEWALREADYRESOLVED', { id: 4, status: 'same' })), [409, 'EREVIEWALREADYRESOLVED']);
  assert.deepEqual(codeAndStatus(createError('EINVALIDHASH', { field: 'hash', actual: 'x' })), [400, 'EINVALIDHASH']);
  assert.deepEqual(codeAndStatus(Object.assign(new Error('big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })), [413, 'EBODYTOOLARGE']);
  assert.deepEqual(codeAndStatus(Object.assign(new SyntaxError('Unexpected end'), { statusCode: 400 })), [400, 'EBADJSON']);
});

test('hides the details of an unexpected error behind a 500 that points at the log', () => {
  const answer = toErrorAnswer(new Error('SQLITE_CORRUPT: secret path /srv/x'));
  assert.equal(answer.statusCode, 500);
  assert.equal(answer.isServerFault, true);
  assert.deepEqual(answer.body, { error: { code: 'EINTERNAL', message: 'The service failed to handle the request; the error is in its log.' } });
});
