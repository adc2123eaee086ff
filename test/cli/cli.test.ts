import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCliForTest } from '../helpers/cli.js';

test('--help lists the exit codes and exits 0', async () => {
  const r = await runCliForTest(['--help'], { cwd: process.cwd() });
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /Exit codes:\n {2}0 {2}success/);
  assert.match(r.stdout, /4 {2}rollback failed or was blocked/);
});

test('an unknown command exits 2 with a message on stderr', async () => {
  const r = await runCliForTest(['no-such-command'], { cwd: process.cwd() });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /unknown command 'no-such-command'/);
});
