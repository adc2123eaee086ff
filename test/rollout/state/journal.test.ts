// The deploy journal: JSON lines appended per step, folded into the latest deploy's summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { createTempDir } from '../../helpers/temp-dir.js';
import { EMBEDDED_LOCAL, resolveEnvironmentConfig } from '../../../src/rollout/config/environments.js';
import { appendJournal, getJournalFile, getLatestDeploy, readJournal } from '../../../src/rollout/state/journal.js';

test('appends entries and summarizes the latest deploy, tolerating a torn last line', async (t) => {
  const environment = resolveEnvironmentConfig(await createTempDir(t), 'local', EMBEDDED_LOCAL, {});
  assert.equal(await getLatestDeploy(environment), undefined);
  const d1 = 'local-20261128T010000000Z';
  const d2 = 'local-20261128T020000000Z';
  await appendJournal(environment, {
    time: '2026-11-28T01:00:00.000Z',
    deployId: d1,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: 'R1',
  });
  await appendJournal(environment, {
    time: '2026-11-28T01:01:00.000Z',
    deployId: d1,
    kind: 'deploy',
    step: 'deploy:finish',
    status: 'succeeded',
    releaseId: 'R1',
  });
  await appendJournal(environment, {
    time: '2026-11-28T02:00:00.000Z',
    deployId: d2,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: 'R2',
    previousReleaseId: 'R1',
    backupFile: 'backups/b.zip',
  });
  await appendJournal(environment, {
    time: '2026-11-28T02:00:05.000Z',
    deployId: d2,
    kind: 'deploy',
    step: 'deploy:switch-back',
    status: 'succeeded',
  });
  await appendJournal(environment, {
    time: '2026-11-28T02:00:06.000Z',
    deployId: d2,
    kind: 'deploy',
    step: 'deploy:finish',
    status: 'failed',
  });
  await appendFile(getJournalFile(environment), '{"torn":');
  assert.equal((await readJournal(environment)).length, 5);
  assert.deepEqual(await getLatestDeploy(environment), {
    deployId: d2,
    releaseId: 'R2',
    previousReleaseId: 'R1',
    startedAt: '2026-11-28T02:00:00.000Z',
    finishedAt: '2026-11-28T02:00:06.000Z',
    status: 'switched-back',
    backupFile: 'backups/b.zip',
  });
});
