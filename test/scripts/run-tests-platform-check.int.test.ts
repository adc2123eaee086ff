import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFakeApt } from '../helpers/fake-apt.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** A filter no test file matches: the runner stops right after its platform check, so no suite runs. */
const NO_FILE = 'no-such-test-file-xyz';

function runRunner(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['test/run-tests.mjs', 'unit', NO_FILE],
      { cwd: repo, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test('the test runner fails up front with one line naming the missing package and `npm run setup`', async (t) => {
  const apt = await createFakeApt(t, { missing: ['chromium'] });
  const result = await runRunner(apt.env);
  assert.deepEqual(result, {
    code: 1,
    stdout: '',
    stderr: 'Missing system package chromium (dpkg reports it not installed): run `npm run setup` first.\n',
  });
  assert.deepEqual(await apt.readAptGetCalls(), []);
});

test('the test runner names every missing package in that one line', async (t) => {
  const apt = await createFakeApt(t, { missing: ['poppler-utils', 'prometheus'] });
  const result = await runRunner(apt.env);
  assert.equal(
    result.stderr,
    'Missing system packages poppler-utils (dpkg reports it not installed), prometheus (dpkg reports it ' +
      'not installed): run `npm run setup` first.\n',
  );
  assert.equal(result.code, 1);
});

test('the test runner goes on to the suites when only packages the tests do not use are missing', async (t) => {
  const apt = await createFakeApt(t, { missing: ['libjpeg62-turbo-dev'] });
  const result = await runRunner(apt.env);
  assert.deepEqual(result, { code: 1, stdout: '', stderr: `No unit test files found matching ${NO_FILE}.\n` });
});
