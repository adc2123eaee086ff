import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor, REDACTED } from '../../src/lib/redact.js';

test('removes secret environment values, their URL paths and URL passwords from text', () => {
  const redact = createRedactor({
    SLACK_WEBHOOK: 'http://127.0.0.1:9/services/T000/B000/abcdefsecret',
    EMAIL_PASS: 'hunter22-pass',
    PATH: '/usr/bin:/bin',
  });
  const text =
    'posting to http://127.0.0.1:9/services/T000/B000/abcdefsecret failed; path ' +
    '/services/T000/B000/abcdefsecret; auth hunter22-pass; smtp://bob:pw123456@mail:25; PATH=/usr/bin:/bin';
  const out = redact(text);
  assert.ok(!out.includes('abcdefsecret'));
  assert.ok(!out.includes('hunter22-pass'));
  assert.ok(!out.includes('pw123456'));
  assert.ok(out.includes('/usr/bin:/bin'), 'non-secret variables are kept');
  assert.ok(out.includes(`smtp://bob:${REDACTED}@mail:25`));
});

test('redacts every string inside nested objects and arrays', () => {
  const redact = createRedactor({ PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY123' });
  const out = redact.deep({ a: ['x R0UTINGKEY123'], b: { c: 'R0UTINGKEY123' }, n: 5 });
  assert.deepEqual(out, { a: [`x ${REDACTED}`], b: { c: REDACTED }, n: 5 });
});

test('scrubs a PostgreSQL URL password by value, whatever the variable is called', () => {
  const redact = createRedactor({ PROD_DB_URL: 'postgres://dhash:s%40cret-pw@10.0.0.5:5432/dhash' });
  assert.equal(redact('auth failed for s@cret-pw'), 'auth failed for [REDACTED]');
  assert.equal(redact('postgres://dhash:s%40cret-pw@10.0.0.5/dhash'), 'postgres://dhash:[REDACTED]@10.0.0.5/dhash');
});
