import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';

test('a failed premerge step ends in a coded error naming the step and its log, not "unexpected error"', async (t) => {
  const root = await createTempDir(t);
  await writeFile(join(root, 'environments.json'), '{}\n');
  // The Node that premerge runs its children with: here one whose every command fails.
  const failingNode = join(root, 'failing-node.sh');
  await writeFile(failingNode, '#!/bin/sh\necho "fake type error"\nexit 3\n', { mode: 0o755 });

  const result = await runCliForTest(['premerge', '--skip-tests'], {
    cwd: root,
    processEnv: { PATH: process.env.PATH, DHASH_NODE: failingNode },
  });

  assert.equal(
    result.stderr,
    'dhash: The premerge step check:typecheck failed: its command exited 3.\n' +
      'Its output is in premerge_artifacts/typecheck.log. Fix the cause, then run `npm run premerge` again ' +
      '(a missing system package: `npm run setup`; a throwaway environment, if one was made, is kept for ' +
      'inspection).\n',
  );
  assert.equal(result.exitCode, 1);
  assert.match(
    await readFile(join(root, 'premerge_artifacts/typecheck.log'), 'utf8'),
    /^fake type error\n\[exit 3\]\n$/m,
  );
});

test(`a step failing without a command of its own is a coded error too, naming the step and the \
premerge log`, async (t) => {
  const root = await createTempDir(t);
  await writeFile(join(root, 'environments.json'), '{}\n');
  const passingNode = join(root, 'passing-node.sh');
  await writeFile(passingNode, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  // env:create reads quality-gates-config.json from the project
  // root, which this one lacks; its temp root goes under `root`.
  const savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = root;
  t.after(() => (savedTmpdir === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = savedTmpdir)));

  const result = await runCliForTest(['premerge', '--skip-tests'], {
    cwd: root,
    processEnv: { PATH: process.env.PATH, DHASH_NODE: passingNode },
  });

  const [message, details] = result.stderr.split('\n');
  assert.match(
    message,
    new RegExp(
      '^dhash: The premerge step env:create failed: ENOENT: no such file or directory, open ' +
        "'.*\\/quality-gates-config\\.json'\\.$",
    ),
  );
  assert.match(details, /^Its output is in logs\/premerge\.log\. Fix the cause, then run `npm run premerge` again /);
  assert.doesNotMatch(result.stderr, /unexpected error/);
  assert.equal(result.exitCode, 1);
});
