// The pure parts of API-token access: parsing, constant-time lookup, the route → scope table and loopback detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost, parseApiTokens } from '../../../src/service/http/auth-tokens.js';
import { findToken, getRequiredScope } from '../../../src/service/http/auth.js';

test(`parses name:scope:token entries separated by commas and newlines, skipping comments, keeping only \
digests`, () => {
  const { tokens, secrets } = parseApiTokens(
    '# ops\na:read:aaaaaaaaaaaaaaaa, b:admin:bbbb:bbbbbbbbbbbbbbbb\n',
    'DHASH_API_TOKENS',
  );
  assert.deepEqual(
    tokens.map((t) => `${t.name}:${t.scope}:${t.digest.length}`),
    ['a:read:32', 'b:admin:32'],
  );
  assert.deepEqual(secrets, ['aaaaaaaaaaaaaaaa', 'bbbb:bbbbbbbbbbbbbbbb']);
  assert.equal(findToken(tokens, 'bbbb:bbbbbbbbbbbbbbbb')?.name, 'b');
  assert.equal(findToken(tokens, 'aaaaaaaaaaaaaaab'), undefined);
  assert.equal(findToken(tokens, ''), undefined);
});

test('an empty token list is an error, and a 15-character token is one character short', () => {
  assert.throws(() => parseApiTokens(' , ', 'X'), {
    code: 'EINVALIDAPITOKENS',
    message: 'The API tokens in X are invalid (1 problem).',
  });
  assert.throws(
    () => parseApiTokens('a:read:123456789012345', 'X'),
    (e: Error & { details: string }) => /got 15/.test(e.details),
  );
  assert.equal(parseApiTokens('a:read:1234567890123456', 'X').tokens.length, 1);
});

test('write routes need write, read routes read, probes nothing unless protected, unlisted routes admin', () => {
  assert.equal(getRequiredScope('POST', '/v1/library', false), 'write');
  assert.equal(getRequiredScope('DELETE', '/v1/library/:id', false), 'write');
  assert.equal(getRequiredScope('POST', '/v1/review/:id/resolve', false), 'write');
  assert.equal(getRequiredScope('POST', '/v1/match', false), 'read');
  assert.equal(getRequiredScope('HEAD', '/v1/library', false), 'read');
  assert.equal(getRequiredScope('GET', '/health', false), undefined);
  assert.equal(getRequiredScope('GET', '/metrics', true), 'read');
  assert.equal(getRequiredScope('POST', '/v1/new-thing', false), 'admin');
  assert.equal(getRequiredScope('GET', undefined, false), 'read');
});

test('only loopback addresses count as loopback', () => {
  for (const host of ['127.0.0.1', '127.8.9.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1'])
    assert.equal(isLoopbackHost(host), false, host);
});
