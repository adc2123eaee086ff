// Pure parts of notifications: events and severities, templates,
// Slack limits, truncation, backoff and Retry-After, the factory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor } from '../../../src/lib/redact.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { EVENT_DEFINITIONS, NOTIFY_EVENTS, createChannel } from '../../../src/rollout/notify/index.js';
import { renderMessage, renderPlainText, renderHtml } from '../../../src/rollout/notify/templates.js';
import { renderSlackPayload, SLACK_LIMITS } from '../../../src/rollout/notify/slack/slack-channel.js';
import { renderPagerDutyPayload } from '../../../src/rollout/notify/pagerduty/pagerduty-channel.js';
import { truncateCodePoints } from '../../../src/rollout/notify/text-limits.js';
import { DEFAULT_DELIVERY_POLICY, getBackoffDelayMs, parseRetryAfterMs } from '../../../src/rollout/notify/deliver.js';
import { getRoutedChannelNames } from '../../../src/rollout/notify/routing.js';
import { getOutboxFileName } from '../../../src/rollout/notify/outbox/outbox.js';
import { classifyResponse } from '../../../src/rollout/notify/http-post.js';

const ctx = {
  env: 'staging',
  id: '0f1e2d3c-aaaa-bbbb-cccc-000000000000',
  idempotencyKey: 'k',
  createdAtMs: Date.UTC(2026, 10, 28, 1, 0, 0),
  redact: createRedactor({}),
};

test('maps every event to its severity', () => {
  assert.deepEqual(Object.fromEntries(NOTIFY_EVENTS.map((e) => [e, EVENT_DEFINITIONS[e].severity])), {
    start: 'info',
    success: 'info',
    failure: 'critical',
    'monitor-start': 'info',
    'gate-warning': 'warning',
    'gate-violation': 'critical',
    'rollback-start': 'critical',
    'rollback-success': 'warning',
    'rollback-failure': 'critical',
    'monitor-complete': 'info',
  });
});

test('renders title, summary and fields once for every channel', () => {
  const m = renderMessage({ event: 'success', release: 'r1', durationMs: 330_000, fields: { Operator: 'ops' } }, ctx);
  assert.equal(m.title, '✅ dhash staging: Deploy succeeded');
  assert.equal(m.summary, 'Release r1 is live on staging in 5m 30s.');
  assert.deepEqual(m.fields, [
    { label: 'Environment', value: 'staging' },
    { label: 'Severity', value: 'info' },
    { label: 'Release', value: 'r1' },
    { label: 'Duration', value: '5m 30s' },
    { label: 'Operator', value: 'ops' },
  ]);
  assert.equal(m.dedupKey, 'dhash-staging');
  assert.equal(renderPlainText(m).split('\n')[4], 'Environment: staging');
  assert.ok(
    renderHtml(renderMessage({ event: 'start', message: '<b>x</b> & "y"' }, ctx)).includes(
      '<p>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;</p>',
    ),
  );
});

test('keeps Slack payloads within Block Kit limits, cutting on code points', () => {
  const emoji = '🚀'.repeat(400);
  const fields = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, 'é'.repeat(2500)]));
  const m = renderMessage({ event: 'start', message: emoji.repeat(10), fields }, ctx);
  m.title = emoji;
  const p = renderSlackPayload(m);
  const blocks = p.blocks as any[];
  assert.equal(blocks.length, SLACK_LIMITS.blocks);
  assert.equal(blocks.at(-1).type, 'context');
  assert.equal(Array.from(blocks[0].text.text).length, 150);
  assert.ok(blocks[0].text.text.endsWith('🚀…'));
  assert.equal(Array.from(blocks[1].text.text).length, 3000);
  for (const b of blocks.slice(2, -1)) {
    assert.equal(b.fields.length, 10);
    for (const f of b.fields) assert.ok(Array.from(f.text).length <= 2000);
  }
  assert.ok(Array.from(p.text).length <= 3000);
  // Every text survives UTF-8 exactly: a lone surrogate from a bad cut would come back as U+FFFD. (JSON.stringify
  // escapes lone surrogates, so the strings themselves are checked, not the serialized body.)
  const texts = collectStrings(p);
  assert.ok(texts.length > SLACK_LIMITS.blocks, `collected ${texts.length} strings`);
  for (const text of texts) assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text);
  assert.ok(!JSON.stringify(p).includes('\\ud83d"'), 'no lone surrogate');
});

/** Every string value inside a JSON-like value, depth first. */
function collectStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(collectStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(collectStrings);
  return [];
}

test('truncates by code points and never splits a surrogate pair', () => {
  assert.equal(truncateCodePoints('abc', 3), 'abc');
  assert.equal(truncateCodePoints('abcd', 3), 'ab…');
  assert.equal(truncateCodePoints('😀😀😀😀', 3), '😀😀…');
  assert.equal(truncateCodePoints('😀😀😀', 3), '😀😀😀');
});

test('computes equal-jitter exponential backoff capped at maxDelayMs', () => {
  const p = DEFAULT_DELIVERY_POLICY;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => getBackoffDelayMs(n, p, () => 0)),
    [250, 500, 1000, 2000, 4000, 4000],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => getBackoffDelayMs(n, p, () => 0.999999)),
    [500, 1000, 2000],
  );
});

test('reads Retry-After as seconds or an HTTP-date', () => {
  const now = Date.UTC(2026, 10, 28, 1, 0, 0);
  assert.equal(parseRetryAfterMs('2', now), 2000);
  assert.equal(parseRetryAfterMs('Sat, 28 Nov 2026 01:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfterMs('Sat, 28 Nov 2026 00:59:00 GMT', now), 0);
  assert.equal(parseRetryAfterMs('soon', now), undefined);
  assert.equal(parseRetryAfterMs(undefined, now), undefined);
});

test('retries 429, 408 and 5xx, not other 4xx', () => {
  assert.deepEqual(classifyResponse(202, ''), { ok: true, httpStatus: 202 });
  assert.deepEqual(classifyResponse(429, 'slow down', '3'), {
    ok: false,
    retryable: true,
    httpStatus: 429,
    error: 'HTTP 429: slow down',
    retryAfter: '3',
  });
  assert.equal((classifyResponse(503, '') as { retryable: boolean }).retryable, true);
  assert.equal((classifyResponse(408, '') as { retryable: boolean }).retryable, true);
  assert.deepEqual(classifyResponse(404, 'no_service', '9'), {
    ok: false,
    retryable: false,
    httpStatus: 404,
    error: 'HTTP 404: no_service',
  });
});

test('routes by severity; rollback-success also reaches PagerDuty when critical events do (to resolve)', () => {
  const n = {
    routing: {
      info: ['slack' as const],
      warning: ['teams' as const],
      critical: ['slack' as const, 'pagerduty' as const],
    },
  };
  assert.deepEqual(getRoutedChannelNames(n, 'start'), ['slack']);
  assert.deepEqual(getRoutedChannelNames(n, 'gate-warning'), ['teams']);
  assert.deepEqual(getRoutedChannelNames(n, 'rollback-success'), ['teams', 'pagerduty']);
  assert.deepEqual(getRoutedChannelNames({ routing: { ...n.routing, critical: ['slack'] } }, 'rollback-success'), [
    'teams',
  ]);
});

test('PagerDuty payloads: trigger with details, resolve with the same dedup key, never the routing key', () => {
  const trigger = renderPagerDutyPayload(renderMessage({ event: 'failure', deployId: 'staging-1' }, ctx)) as any;
  const resolve = renderPagerDutyPayload(
    renderMessage({ event: 'rollback-success', deployId: 'staging-1' }, ctx),
  ) as any;
  assert.equal(trigger.event_action, 'trigger');
  assert.equal(trigger.payload.severity, 'critical');
  assert.deepEqual(resolve, { event_action: 'resolve', dedup_key: 'dhash-staging-staging-1' });
  assert.equal(trigger.dedup_key, resolve.dedup_key);
  assert.equal('routing_key' in trigger, false);
});

test('the channel factory skips unconfigured channels and names an unknown type', () => {
  assert.equal(createChannel('slack', {}), undefined);
  assert.equal(createChannel('email', { EMAIL_HOST: 'h' }), undefined, 'email needs EMAIL_TO too');
  assert.equal(createChannel('email', { EMAIL_HOST: 'h', EMAIL_TO: 'a@b' })?.type, 'email');
  assert.equal(createChannel('pagerduty', { PAGERDUTY_ROUTING_KEY: 'k' })?.type, 'pagerduty');
  assert.throws(
    () => createChannel('sms', {}),
    (e: unknown) =>
      isDhashError(e, 'EUNKNOWNCHANNEL') &&
      e.message === 'Unknown notification channel type `sms`.' &&
      e.exitCode === 2,
  );
});

test('names outbox files <created ts>_<event>_<env>_<channel>_<short id>.json', () => {
  assert.equal(
    getOutboxFileName({
      createdAt: '2026-11-28T01:00:00.123Z',
      event: 'gate-violation',
      env: 'production',
      channel: 'teams',
      id: '0f1e2d3c-aaaa-bbbb-cccc-000000000000',
    }),
    '20261128T010000123Z_gate-violation_production_teams_0f1e2d3c.json',
  );
});
