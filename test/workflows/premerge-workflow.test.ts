import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { validateWorkflow } from '@action-validator/core';

const workflowFile = fileURLToPath(new URL('../../.github/workflows/premerge.yml', import.meta.url));

test('the premerge workflow validates against the GitHub Actions workflow schema', async () => {
  const state = validateWorkflow(await readFile(workflowFile, 'utf8'));
  assert.equal(state.actionType, 'workflow');
  assert.deepEqual(state.errors, []);
});

test('the validator does catch a broken workflow (so the check above means something)', () => {
  const state = validateWorkflow(
    'on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ' +
      'actions/checkout@v4\n        runz: oops\n',
  );
  assert.ok(state.errors.length > 0);
});

test('runs on pull requests on Ubuntu, macOS and Windows with Node 20 and uploads the artifacts per OS', async () => {
  const text = await readFile(workflowFile, 'utf8');
  assert.match(text, /^on:\n {2}pull_request:\n/m);
  assert.match(text, /^ {8}os: \[ubuntu-latest, macos-latest, windows-latest\]$/m);
  assert.match(text, /uses: actions\/setup-node@v4\n\s+with:\n\s+node-version: 20\n/);
  assert.match(text, /run: npm ci\n/);
  assert.match(text, /if: runner\.os != 'Windows'\n\s+run: npm run premerge\n/);
  assert.match(text, /run: \|\n\s+echo "::notice::poppler skipped on Windows: /);
  // Linux runs the README's set-up command, which installs every package the tests name.
  assert.match(text, /if: runner.os == 'Linux'\n\s+run: sudo node scripts\/setup.mjs\n/);
  assert.match(text, /brew install poppler/);
  assert.match(
    text,
    new RegExp(
      'uses: actions\\/upload-artifact@v4\\n\\s+with:\\n\\s+name: premerge_artifacts-\\$\\{\\{ matrix\\.os ' +
        '\\}\\}\\n\\s+path: premerge_artifacts\\/\\n',
    ),
  );
});

test('reads secrets only from GitHub Actions secrets and holds no literal webhook or credential', async () => {
  const text = await readFile(workflowFile, 'utf8');
  const assignments = [...text.matchAll(/^\s+(SLACK_WEBHOOK|TEAMS_WEBHOOK|DISCORD_WEBHOOK|EMAIL_\w+): (.*)$/gm)];
  assert.deepEqual(
    assignments.map((m) => m[1]),
    ['SLACK_WEBHOOK', 'TEAMS_WEBHOOK', 'DISCORD_WEBHOOK', 'EMAIL_SMTP_URL'],
  );
  for (const m of assignments) assert.equal(m[2], `\${{ secrets.${m[1]} }}`);
  assert.doesNotMatch(text, /hooks\.slack\.com|webhook\.office\.com|discord\.com\/api|password\s*[:=]/i);
});
