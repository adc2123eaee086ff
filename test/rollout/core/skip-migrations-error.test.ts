import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createError } from '../../../src/lib/errors.js';
import { ExitCode } from '../../../src/lib/exit-codes.js';

test('--skip-migrations refused has its own code, naming the pending count and the next action', () => {
  const error = createError('ESKIPMIGRATIONSREFUSED', { env: 'staging', pending: 2 });
  assert.equal(error.code, 'ESKIPMIGRATIONSREFUSED');
  assert.equal(
    error.message,
    '--skip-migrations is refused: the release has 2 pending migrations, which the deploy must apply.',
  );
  assert.equal(
    error.details,
    'Nothing was changed. Leave out --skip-migrations: the deploy dry-runs them on a copy first and keeps ' +
      'a pre-migration copy for switch-back. ' +
      '`./scripts/migrate_dhash.sh --env staging --dry-run` shows what they do.',
  );
  assert.equal(error.exitCode, ExitCode.USAGE);
  assert.equal(
    createError('ESKIPMIGRATIONSREFUSED', { env: 'local', pending: 1 }).message,
    '--skip-migrations is refused: the release has 1 pending migration, which the deploy must apply.',
  );
});
