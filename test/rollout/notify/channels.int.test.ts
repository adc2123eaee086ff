// Delivery to real local servers behaving like Slack, Teams, Discord, PagerDuty, a JSON webhook and SMTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DISCORD_NO_CONTENT,
  PAGERDUTY_ACCEPTED,
  SLACK_OK,
  TEAMS_ACCEPTED,
  runWithClock,
  startFakeSmtp,
  startFakeWebhook,
} from '../../helpers/notify-servers.js';
import { createNotifyProject, createTestNotifier } from './notify-fixture.js';

const SECRET_PATH = '/services/T0SECRET/B0SECRET/xoxsecretpath';

/** Decodes a (possibly folded) RFC 2047 header of a raw message, as a mail client would. */
function decodeHeader(raw: string, name: string): string {
  const m = new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'mi').exec(raw);
  const value = (m?.[1] ?? '').replace(/\r?\n[ \t]/g, ' ');
  return value
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_all, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('latin1')
        : decodeQuotedPrintable(text.replace(/_/g, ' '), 'latin1'),
    )
    .replace(/[\x80-\xff]+/g, (bytes) => Buffer.from(bytes, 'latin1').toString('utf8'))
    .trim();
}

function decodeQuotedPrintable(text: string, as: 'utf8' | 'latin1' = 'utf8'): string {
  const bytes = Buffer.from(text.replace(/\r\n/g, '\n').replace(/=\n/g, ''), 'latin1')
    .toString('latin1')
    .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return as === 'utf8' ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}

test(`delivers a critical event to Slack, Teams, Discord, the JSON webhook, PagerDuty and email, each \
in its own format`, async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, () => SLACK_OK, SECRET_PATH);
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED, '/workflows/teamsSECRETsig');
  const discord = await startFakeWebhook(t, () => DISCORD_NO_CONTENT, '/api/webhooks/1/discordSECRET');
  const hook = await startFakeWebhook(t, () => ({ status: 200, body: '{}' }), '/deploy-hookSECRET');
  const pd = await startFakeWebhook(t, () => PAGERDUTY_ACCEPTED(), '/v2/enqueue');
  const smtp = await startFakeSmtp(t, { user: 'mailer', pass: 'smtp-pa55word' });
  const env = {
    SLACK_WEBHOOK: slack.url,
    TEAMS_WEBHOOK: teams.url,
    DISCORD_WEBHOOK: discord.url,
    DEPLOY_WEBHOOK: hook.url,
    PAGERDUTY_ROUTING_KEY: 'R0UTING-KEY-abc123',
    PAGERDUTY_URL: pd.url,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_USER: 'mailer',
    EMAIL_PASS: 'smtp-pa55word',
    EMAIL_FROM: 'dhash@example.test',
    EMAIL_TO: 'ops@example.test, sre@example.test',
  };
  const { clock, tracker, notifier } = await createTestNotifier(root, env);
  const report = await runWithClock(
    clock,
    tracker,
    notifier.send({
      event: 'gate-violation',
      deployId: 'production-20261128T011500123Z',
      release: 'r42',
      gate: { name: 'p95-hash-time', value: 2450, threshold: 2000, window: '15m', verdict: 'violated' },
    }),
  );

  assert.deepEqual(report.deliveries.map((d) => [d.channel, d.status, d.attempts]).sort(), [
    ['discord', 'delivered', 1],
    ['email', 'delivered', 1],
    ['pagerduty', 'delivered', 1],
    ['slack', 'delivered', 1],
    ['teams', 'delivered', 1],
    ['webhook', 'delivered', 1],
  ]);
  assert.deepEqual(report.outboxFiles, []);
  assert.equal(report.severity, 'critical');

  // Slack: header, summary section, fields section, context, plus the text fallback.
  assert.equal(slack.requests.length, 1);
  const s = slack.requests[0].json;
  assert.equal(slack.requests[0].headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(slack.requests[0].headers['idempotency-key'], report.id);
  assert.equal(
    s.text,
    '🚨 dhash production: Quality gate violated: A quality gate on production was violated; automatic ' +
      'rollback follows where configured.',
  );
  assert.deepEqual(
    s.blocks.map((b: any) => b.type),
    ['header', 'section', 'section', 'context'],
  );
  assert.deepEqual(s.blocks[0], {
    type: 'header',
    text: { type: 'plain_text', text: '🚨 dhash production: Quality gate violated', emoji: true },
  });
  assert.deepEqual(
    s.blocks[2].fields.map((f: any) => f.text),
    [
      '*Environment*\nproduction',
      '*Severity*\ncritical',
      '*Release*\nr42',
      '*Deploy id*\nproduction-20261128T011500123Z',
      '*Gate*\np95-hash-time',
      '*Observed*\n2450',
      '*Threshold*\n2000',
      '*Window*\n15m',
      '*Verdict*\nviolated',
    ],
  );
  assert.match(
    s.blocks[3].elements[0].text,
    /^dhash · event gate-violation · critical · 2026-11-28T00:00:00.000Z · id [0-9a-f-]{36}$/,
  );

  // Teams: a Workflows message with one Adaptive Card 1.4; 202 with an empty body counted as success.
  const card = teams.requests[0].json;
  assert.equal(card.type, 'message');
  assert.equal(card.attachments.length, 1);
  assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(card.attachments[0].content.type, 'AdaptiveCard');
  assert.equal(card.attachments[0].content.version, '1.4');
  assert.deepEqual(
    card.attachments[0].content.body.map((b: any) => b.type),
    ['TextBlock', 'TextBlock', 'FactSet', 'TextBlock'],
  );
  assert.equal(card.attachments[0].content.body[0].color, 'Attention');
  assert.deepEqual(card.attachments[0].content.body[2].facts[4], { title: 'Gate', value: 'p95-hash-time' });

  // Discord: one embed with inline fields and no mentions.
  const d = discord.requests[0].json;
  assert.deepEqual(d.allowed_mentions, { parse: [] });
  assert.equal(d.embeds.length, 1);
  assert.equal(d.embeds[0].title, '🚨 dhash production: Quality gate violated');
  assert.equal(d.embeds[0].color, 0xe01e5a);
  assert.deepEqual(d.embeds[0].fields[5], { name: 'Observed', value: '2450', inline: true });

  // Generic webhook: the versioned document with the idempotency key inside.
  assert.equal(hook.requests[0].json.schema, 'dhash.notification/v1');
  assert.equal(hook.requests[0].json.idempotencyKey, report.id);
  assert.equal(hook.requests[0].json.event, 'gate-violation');

  // PagerDuty: trigger with the routing key and a dedup key stable per deploy.
  const p = pd.requests[0].json;
  assert.equal(p.routing_key, 'R0UTING-KEY-abc123');
  assert.equal(p.event_action, 'trigger');
  assert.equal(p.dedup_key, 'dhash-production-production-20261128T011500123Z');
  assert.equal(p.payload.severity, 'critical');
  assert.equal(p.payload.source, 'dhash-production');
  assert.equal(p.payload.class, 'gate-violation');
  assert.equal(p.payload.custom_details.Threshold, '2000');

  // SMTP: authenticated, envelope, subject, text and HTML parts.
  assert.equal(smtp.mails.length, 1);
  const mail = smtp.mails[0];
  assert.equal(mail.user, 'mailer');
  assert.equal(mail.from, 'dhash@example.test');
  assert.deepEqual(mail.to, ['ops@example.test', 'sre@example.test']);
  assert.equal(decodeHeader(mail.raw, 'Subject'), '🚨 dhash production: Quality gate violated');
  assert.match(mail.raw, /Content-Type: text\/plain/);
  assert.match(mail.raw, /Content-Type: text\/html/);
  const body = decodeQuotedPrintable(mail.raw);
  assert.ok(
    body.includes('Gate:        p95-hash-time\nObserved:    2450\nThreshold:   2000\nWindow:      15m\n'),
    'text part lists the gate values',
  );
  assert.ok(
    body.includes('<tr><th align="left" style="padding:2px 12px 2px 0">Observed</th><td>2450</td></tr>'),
    'HTML part has the fields table',
  );
  assert.match(mail.raw, new RegExp(`Message-ID: <${report.id}@dhash.notify>`));
  assert.equal(clock.now(), Date.UTC(2026, 10, 28), 'no channel waited');
});

test(`retries 503, 503 and delivers on the third attempt with the same idempotency key, waiting the \
jittered backoff`, async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, (i) => (i < 2 ? { status: 503, body: 'unavailable' } : SLACK_OK));
  const { clock, tracker, notifier } = await createTestNotifier(root, { SLACK_WEBHOOK: slack.url });
  const start = clock.now();
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'success', release: 'r1' }));
  assert.deepEqual(report.deliveries, [{ channel: 'slack', status: 'delivered', attempts: 3 }]);
  assert.equal(slack.requests.length, 3);
  assert.deepEqual(new Set(slack.requests.map((r) => r.headers['idempotency-key'])), new Set([report.id]));
  // random() = 0.5 → waits of 375 ms (500/2 + 0.5·250) then 750 ms (1000/2 + 0.5·500).
  assert.equal(clock.now() - start, 1125);
});

test('honours Retry-After: 2 on a 429 by waiting 2 s of clock time', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, (i) =>
    i === 0 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '2' } } : SLACK_OK,
  );
  const { clock, tracker, notifier } = await createTestNotifier(root, { SLACK_WEBHOOK: slack.url });
  const start = clock.now();
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'start' }));
  assert.equal(report.deliveries[0].status, 'delivered');
  assert.equal(slack.requests.length, 2);
  assert.ok(clock.now() - start >= 2000, `waited ${clock.now() - start} ms`);
  assert.equal(clock.now() - start, 2000);
});

test('does not retry Slack 400 invalid_payload and writes the outbox file with the reason', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, () => ({ status: 400, body: 'invalid_payload' }));
  const { clock, tracker, notifier } = await createTestNotifier(root, { SLACK_WEBHOOK: slack.url });
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'success', deployId: 'production-1' }));
  assert.equal(slack.requests.length, 1);
  assert.equal(report.deliveries[0].status, 'outboxed');
  const entry = JSON.parse(await readFile(report.outboxFiles[0], 'utf8'));
  assert.equal(entry.reason, 'HTTP 400: invalid_payload (not retried: the receiver rejected the request)');
  assert.equal(entry.status, 'pending');
  assert.equal(entry.channel, 'slack');
  assert.equal(entry.event, 'success');
  assert.equal(entry.env, 'production');
  assert.equal(entry.attempts.length, 1);
  assert.equal(entry.attempts[0].httpStatus, 400);
  assert.deepEqual(entry.payload.blocks[0].type, 'header');
  assert.match(
    report.outboxFiles[0],
    /notifications_out\/20261128T000000000Z_success_production_slack_[0-9a-f]{8}\.json$/,
  );
});

test(`writes an unreachable channel to the outbox after its attempt budget while the others deliver \
without waiting for it`, async (t) => {
  const root = await createNotifyProject(t);
  const dead = await startFakeWebhook(t, () => SLACK_OK);
  await dead.close();
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED);
  const { clock, tracker, notifier } = await createTestNotifier(root, {
    SLACK_WEBHOOK: dead.url,
    TEAMS_WEBHOOK: teams.url,
  });
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'success' }));
  const slackDelivery = report.deliveries.find((d) => d.channel === 'slack')!;
  assert.equal(slackDelivery.status, 'outboxed');
  assert.equal(slackDelivery.attempts, 4);
  assert.equal(slackDelivery.error, 'network error: ECONNREFUSED (gave up after 4 attempts)');
  assert.deepEqual(
    report.deliveries.find((d) => d.channel === 'teams'),
    { channel: 'teams', status: 'delivered', attempts: 1 },
  );
  assert.deepEqual(
    tracker.ends.map((e) => e.channel),
    ['teams', 'slack'],
  );
  const entry = JSON.parse(await readFile(slackDelivery.outboxFile!, 'utf8'));
  assert.deepEqual(
    entry.attempts.map((a: any) => a.error),
    Array(4).fill('network error: ECONNREFUSED'),
  );
});

test('a hanging channel times out per attempt on the clock and never delays the other channels', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, () => 'hang');
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED);
  const discord = await startFakeWebhook(t, () => DISCORD_NO_CONTENT);
  const { clock, tracker, notifier } = await createTestNotifier(
    root,
    { SLACK_WEBHOOK: slack.url, TEAMS_WEBHOOK: teams.url, DISCORD_WEBHOOK: discord.url },
    { policy: { attemptTimeoutMs: 1000, maxAttempts: 2 } },
  );
  const start = clock.now();
  const finishedAt = new Map<string, number>();
  tracker.onDeliveryEnd = (c, delivered) => {
    tracker.ends.push({ channel: c, delivered });
    finishedAt.set(c, clock.now() - start);
  };
  const report = await runWithClock(
    clock,
    tracker,
    notifier.send({ event: 'start' }),
    ['slack'],
    () => slack.requests.length >= (tracker.started.get('slack') ?? 0),
  );
  assert.equal(finishedAt.get('teams'), 0);
  assert.equal(finishedAt.get('discord'), 0);
  // Two 1000 ms attempts with a 375 ms backoff between them.
  assert.equal(finishedAt.get('slack'), 2375);
  assert.equal(slack.requests.length, 2);
  const s = report.deliveries.find((d) => d.channel === 'slack')!;
  assert.equal(s.error, 'timed out after 1000 ms (gave up after 2 attempts)');
});

test('a wrong SMTP password ends in the outbox without retries and without the password anywhere', async (t) => {
  const root = await createNotifyProject(t);
  const smtp = await startFakeSmtp(t, { user: 'mailer', pass: 'right-pa55word' });
  const env = { EMAIL_SMTP_URL: `smtp://mailer:wrong-pa55word@127.0.0.1:${smtp.port}`, EMAIL_TO: 'ops@example.test' };
  const { clock, tracker, notifier, getLogText } = await createTestNotifier(root, env);
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'failure' }));
  const email = report.deliveries.find((d) => d.channel === 'email')!;
  assert.equal(email.status, 'outboxed');
  assert.equal(email.attempts, 1);
  assert.equal(smtp.authFailures, 1);
  assert.equal(smtp.mails.length, 0);
  assert.match(email.error!, /^SMTP authentication failed \(SMTP 535\): check EMAIL_USER\/EMAIL_PASS \(not retried\)$/);
  const text = await readFile(email.outboxFile!, 'utf8');
  assert.ok(!text.includes('wrong-pa55word') && !getLogText().includes('wrong-pa55word'));
});

test('emoji and accented text arrive byte-exact with a Content-Length counted in UTF-8 bytes', async (t) => {
  const root = await createNotifyProject(t);
  const hook = await startFakeWebhook(t, () => ({ status: 200 }));
  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const { clock, tracker, notifier } = await createTestNotifier(root, {
    DEPLOY_WEBHOOK: hook.url,
    SLACK_WEBHOOK: slack.url,
  });
  const message = 'Déploiement réussi 🚀✅ — naïve café, Ærøskøbing, 日本語, 👩‍👩‍👧 family';
  await runWithClock(clock, tracker, notifier.send({ event: 'success', message }));
  for (const server of [hook, slack]) {
    const r = server.requests[0];
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.ok(r.body.length > r.body.toString('utf8').length, 'multi-byte characters counted as bytes');
    assert.ok(r.body.includes(Buffer.from(message, 'utf8')), 'the exact UTF-8 bytes of the message are in the body');
  }
  assert.equal(hook.requests[0].json.summary, message);
  assert.equal(slack.requests[0].json.blocks[1].text.text, message);
});

test('dry-run sends nothing and writes one outbox file per configured channel', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED);
  const { clock, tracker, notifier } = await createTestNotifier(
    root,
    { SLACK_WEBHOOK: slack.url, TEAMS_WEBHOOK: teams.url },
    { isDryRun: true },
  );
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'start' }));
  assert.equal(slack.requests.length + teams.requests.length, 0);
  assert.deepEqual(
    report.deliveries.map((d) => [d.channel, d.status, d.error]),
    [
      ['slack', 'outboxed', 'dry-run'],
      ['teams', 'outboxed', 'dry-run'],
    ],
  );
  const names = (await readdir(join(root, 'notifications_out'))).sort();
  assert.equal(names.length, 2);
  const entry = JSON.parse(await readFile(join(root, 'notifications_out', names[0]), 'utf8'));
  assert.equal(entry.dryRun, true);
  assert.equal(entry.reason, 'dry-run');
});

test('with no channel configured the notification goes to the outbox as channel `none`', async (t) => {
  const root = await createNotifyProject(t);
  const { clock, tracker, notifier } = await createTestNotifier(root, {});
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'monitor-complete' }));
  assert.deepEqual(
    report.deliveries.map((d) => [d.channel, d.status, d.error]),
    [['none', 'outboxed', 'no channel configured']],
  );
  const entry = JSON.parse(await readFile(report.outboxFiles[0], 'utf8'));
  assert.equal(entry.payload, null);
  assert.equal(entry.message.title, '🏁 dhash production: Monitoring complete');
});

test('a rollback success resolves the PagerDuty incident with the dedup key its violation triggered', async (t) => {
  const root = await createNotifyProject(t);
  const pd = await startFakeWebhook(t, () => PAGERDUTY_ACCEPTED(), '/v2/enqueue');
  const env = { PAGERDUTY_ROUTING_KEY: 'R0UTING-KEY-abc123', PAGERDUTY_URL: pd.url };
  const { clock, tracker, notifier } = await createTestNotifier(root, env);
  const deployId = 'production-20261128T011500123Z';
  await runWithClock(clock, tracker, notifier.send({ event: 'gate-violation', deployId }));
  await runWithClock(clock, tracker, notifier.send({ event: 'success', deployId }));
  await runWithClock(clock, tracker, notifier.send({ event: 'rollback-success', deployId }));
  assert.deepEqual(
    pd.requests.map((r) => [r.json.event_action, r.json.dedup_key, r.json.routing_key]),
    [
      ['trigger', `dhash-production-${deployId}`, 'R0UTING-KEY-abc123'],
      ['resolve', `dhash-production-${deployId}`, 'R0UTING-KEY-abc123'],
    ],
  );
  assert.deepEqual(Object.keys(pd.requests[1].json).sort(), ['dedup_key', 'event_action', 'routing_key']);
});

test('an invalid webhook URL is a channel failure with a reason naming the variable, not a crash', async (t) => {
  const root = await createNotifyProject(t);
  const { clock, tracker, notifier } = await createTestNotifier(root, {
    SLACK_WEBHOOK: '...',
    TEAMS_WEBHOOK: 'ftp://x',
  });
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'success' }));
  assert.deepEqual(
    report.deliveries.map((d) => [d.channel, d.status, d.attempts, d.error]),
    [
      ['slack', 'outboxed', 1, 'SLACK_WEBHOOK is not a valid URL (expected https://...) (not retried)'],
      ['teams', 'outboxed', 1, 'TEAMS_WEBHOOK must be an http(s) URL, got the scheme ftp: (not retried)'],
    ],
  );
});

test('a Retry-After beyond the retry budget ends the retries at once and outboxes the notification', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(t, () => ({
    status: 429,
    body: 'rate_limited',
    headers: { 'retry-after': '3600' },
  }));
  const { clock, tracker, notifier } = await createTestNotifier(root, { SLACK_WEBHOOK: slack.url });
  const start = clock.now();
  const report = await runWithClock(clock, tracker, notifier.send({ event: 'start' }));
  assert.equal(slack.requests.length, 1);
  assert.equal(clock.now(), start);
  assert.equal(
    report.deliveries[0].error,
    'HTTP 429: rate_limited (gave up after 1 attempt: waiting 3600000 ms more would pass the 30000 ms retry budget)',
  );
});
