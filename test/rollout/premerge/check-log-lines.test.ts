import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkLogFile, formatLogChecks } from '../../../src/rollout/premerge/check-log-lines.js';
import { listArtifactFiles } from '../../../src/rollout/premerge/artifact-manifest.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const SECRET = 'premergeFakeSlackSecret1';

test(`passes JSON lines with time, level and component or msg, and leaves plain lines to the secret \
check only`, async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'quick-deploy.log');
  await writeFile(
    file,
    [
      '{"time":"2026-11-28T01:00:00.000Z","level":"info","component":"quick-deploy.pipeline","msg":"step ' +
        'started","step":"backup:create"}',
      '{"level":30,"time":1764291600000,"pid":1,"msg":"request completed"}',
      '$ node dist/cli/main.js deploy --env local --dry-run',
      '',
    ].join('\n'),
  );
  const check = await checkLogFile(file, [SECRET]);
  assert.deepEqual(check, { file, lines: 3, jsonLines: 2, problems: [], components: ['quick-deploy.pipeline'] });
});

test('names every broken line: invalid JSON, a missing field, and a leaked secret anywhere', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'monitor.log');
  await writeFile(
    file,
    [
      '{"time":"2026-11-28T01:00:00.000Z","level":"info","component":"monitor","msg":"ok"}',
      '{"time":"2026-11-28T01:00:01.000Z","level":"info"',
      '{"level":"warn","component":"monitor","msg":"no time"}',
      '{"time":"2026-11-28T01:00:02.000Z","level":"info","step":"x"}',
      `posting to http://127.0.0.1:9/services/T0/B0/${SECRET}`,
    ].join('\n'),
  );
  const check = await checkLogFile(file, [SECRET]);
  assert.deepEqual(check.problems, [
    'line 2: not valid JSON',
    'line 3: no `time`',
    'line 4: neither `component` nor `msg`',
    'line 5: contains a secret value',
  ]);
  const text = formatLogChecks([check]);
  assert.equal(text.split('\n')[0], 'FAIL monitor.log: 5 lines, 4 JSON lines checked; components monitor');
  assert.match(text, /\ntest_logging: FAIL \(1 of 1 files\)\n$/);
});

test('only searches data files (poll lines, outbox messages) for secrets', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'local-20261128T010000000Z.jsonl');
  await writeFile(file, `{"time":"2026-11-28T01:00:00.000Z","pollIndex":0}\n{"url":"${SECRET}"}\n`);
  const check = await checkLogFile(file, [SECRET], { isSecretScanOnly: true });
  assert.deepEqual([check.jsonLines, check.problems], [0, ['line 2: contains a secret value']]);
});

test('lists every artifact with its size and sha256, sorted, without the manifest itself', async (t) => {
  const dir = await createTempDir(t);
  await mkdir(join(dir, 'backups'));
  await writeFile(join(dir, 'deploy-dryrun.log'), 'abc');
  await writeFile(join(dir, 'backups', 'b.zip'), '');
  await writeFile(join(dir, 'manifest.json'), '{}');
  assert.deepEqual(await listArtifactFiles(dir), [
    { path: 'backups/b.zip', sizeBytes: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    {
      path: 'deploy-dryrun.log',
      sizeBytes: 3,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    },
  ]);
});
