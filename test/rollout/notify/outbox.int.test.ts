// The outbox: secrets never written, `flushOutbox` re-sends pending files and marks what got through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { flushOutbox } from '../../../src/rollout/notify/index.js';
import { createRedactor } from '../../../src/lib/redact.js';
import {
  createAttemptTracker,
  runWithClock,
  SLACK_OK,
  startFakeSmtp,
  startFakeWebhook,
  TEAMS_ACCEPTED,
} from '../../helpers/notify-servers.js';
import { createNotifyProject, createTestNotifier } from './notify-fixture.js';

async function readAllFiles(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  return text;
}

test('no secret substring appears in any outbox file or log line, whatever failed', async (t) => {
  const root = await createNotifyProject(t);
  const slack = await startFakeWebhook(
    t,
    () => ({ status: 400, body: 'invalid_payload' }),
    '/services/TSECRET1/BSECRET2/slackSECRET3',
  );
  const teams = await startFakeWebhook(t, () => ({ status: 500, body: 'boom' }), '/workflows/abc?sig=teamsSIGSECRET');
  const pd = await startFakeWebhook(t, () => ({ status: 400, body: '{"status":"invalid event"}' }), '/v2/enqueue');
  const smtp = await startFakeSmtp(t, { user: 'mailer', pass: 'other-pass' });
  const dead = await startFakeWebhook(t, () => SLACK_OK, '/discord/api/webhooks/1/discordSECRET4');
  await dead.close();
  const env = {
    SLACK_WEBHOOK: slack.url,
    TEAMS_WEBHOOK: teams.url,
    DISCORD_WEBHOOK: dead.url,
    PAGERDUTY_ROUTING_KEY: 'PDKEYSECRET5',
    PAGERDUTY_URL: pd.url,
    EMAIL_SMTP_URL: `smtp://mailer:smtpPASSSECRET6@127.0.0.1:${smtp.port}`,
    EMAIL_TO: 'ops@example.test',
  };
  const { clock, tracker, notifier, getLogText } = await createTestNotifier(root, env);
  // A message that quotes a secret (e.g. from a failing command's output) is scrubbed too.
  const report = await runWithClock(
    clock,
    tracker,
    notifier.send({ event: 'rollback-failure', message: `curl ${slack.url} failed`, deployId: 'production-x' }),
  );
  assert.equal(report.outboxFiles.length, 5);
  const written = (await readAllFiles(root)) + getLogText() + JSON.stringify(report);
  for (const secret of [
    'TSECRET1',
    'BSECRET2',
    'slackSECRET3',
    'teamsSIGSECRET',
    'discordSECRET4',
    'PDKEYSECRET5',
    'smtpPASSSECRET6',
  ]) {
    assert.ok(!written.includes(secret), `${secret} leaked`);
  }
  assert.ok(getLogText().includes('notification written to the outbox'));
  const slackEntry = JSON.parse(
    await readFile(report.deliveries.find((d) => d.channel === 'slack')!.outboxFile!, 'utf8'),
  );
  assert.equal(slackEntry.payload.blocks[1].text.text, 'curl [REDACTED] failed');
});

test(`flush re-sends pending files with the current settings, marks them delivered with the same \
idempotency key, and sends nothing twice`, async (t) => {
  const root = await createNotifyProject(t);
  const dead = await startFakeWebhook(t, () => SLACK_OK);
  await dead.close();
  const first = await createTestNotifier(root, { SLACK_WEBHOOK: dead.url, TEAMS_WEBHOOK: '...' });
  const report = await runWithClock(
    first.clock,
    first.tracker,
    first.notifier.send({ event: 'success', release: 'r9' }),
  );
  assert.equal(report.outboxFiles.length, 2);

  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const env = { SLACK_WEBHOOK: slack.url };
  const tracker = createAttemptTracker();
  const flush = () =>
    runWithClock(
      first.clock,
      tracker,
      flushOutbox({
        projectRoot: root,
        processEnv: env,
        clock: first.clock,
        observer: tracker,
        redact: createRedactor(env),
      }),
    );
  const result = await flush();
  assert.equal(result.delivered, 1);
  assert.equal(result.pending, 1);
  assert.deepEqual(result.items.map((i) => [i.channel, i.status, i.detail]).sort(), [
    ['slack', 'delivered', undefined],
    ['teams', 'pending', 'TEAMS_WEBHOOK is not set'],
  ]);
  assert.equal(slack.requests.length, 1);
  assert.equal(slack.requests[0].headers['idempotency-key'], report.id);
  assert.equal(slack.requests[0].json.blocks[0].text.text, '✅ dhash production: Deploy succeeded');

  const slackFile = report.deliveries.find((d) => d.channel === 'slack')!.outboxFile!;
  const delivered = JSON.parse(await readFile(slackFile, 'utf8'));
  assert.equal(delivered.status, 'delivered');
  assert.equal(delivered.deliveredAt, new Date(first.clock.now()).toISOString());
  assert.equal(delivered.attempts.length, 5, 'four failed attempts, then the flush attempt');
  assert.equal(delivered.attempts[4].ok, true);
  const teamsEntry = JSON.parse(
    await readFile(report.deliveries.find((d) => d.channel === 'teams')!.outboxFile!, 'utf8'),
  );
  assert.equal(teamsEntry.status, 'pending');
  assert.equal(teamsEntry.attempts.at(-1).error, 'TEAMS_WEBHOOK is not set');

  const again = await flush();
  assert.equal(again.delivered, 0);
  assert.equal(slack.requests.length, 1, 'a delivered file is never sent again');
});

test('flush routes a `none` entry to channels configured since and leaves dry-run rehearsals alone', async (t) => {
  const root = await createNotifyProject(t);
  const none = await createTestNotifier(root, {});
  await runWithClock(none.clock, none.tracker, none.notifier.send({ event: 'start' }));
  const dry = await createTestNotifier(root, { SLACK_WEBHOOK: 'http://127.0.0.1:9/x' }, { isDryRun: true });
  await runWithClock(dry.clock, dry.tracker, dry.notifier.send({ event: 'success' }));

  const slack = await startFakeWebhook(t, () => SLACK_OK);
  const teams = await startFakeWebhook(t, () => TEAMS_ACCEPTED);
  const env = { SLACK_WEBHOOK: slack.url, TEAMS_WEBHOOK: teams.url };
  const tracker = createAttemptTracker();
  const result = await runWithClock(
    none.clock,
    tracker,
    flushOutbox({ projectRoot: root, processEnv: env, clock: none.clock, observer: tracker, envName: 'production' }),
  );
  assert.deepEqual(result.items.map((i) => [i.channel, i.status, i.detail]).sort(), [
    ['none', 'delivered', 'delivered to slack, teams'],
    ['slack', 'skipped', 'dry-run rehearsal (use --include-dry-run to send)'],
  ]);
  assert.equal(slack.requests.length, 1);
  assert.equal(slack.requests[0].json.blocks[0].text.text, '🚀 dhash production: Deploy started');
  assert.equal(teams.requests.length, 1);
});
