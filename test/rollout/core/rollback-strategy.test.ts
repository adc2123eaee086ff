import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseRollbackStrategy,
  formatRollbackStrategy,
  getDeployRollbackFacts,
  FIRST_DEPLOY_REASON,
} from '../../../src/rollout/core/rollback-strategy.js';

const withDown = { version: 2, name: 'change_log', hasDown: true };
const withoutDown = { version: 3, name: 'backfill', hasDown: false };

test('a deploy that applied no migration switches back, keeping the live database', () => {
  assert.deepEqual(chooseRollbackStrategy({ previousReleaseId: 'r1', appliedMigrations: [] }), {
    strategy: 'switch-back',
    reason: 'the deploy applied no migration: the live database is kept',
  });
});

test('a deploy whose every migration has a down is down-migrated; one without a down makes it a restore', () => {
  assert.deepEqual(chooseRollbackStrategy({ previousReleaseId: 'r1', appliedMigrations: [withDown] }), {
    strategy: 'down-migrate',
    reason: 'every migration the deploy applied has a reviewed down (2)',
  });
  assert.deepEqual(chooseRollbackStrategy({ previousReleaseId: 'r1', appliedMigrations: [withDown, withoutDown] }), {
    strategy: 'restore',
    reason: 'migration 3 (backfill) has no down',
  });
});

test('a switch-back that failed its health checks, or a journal that does not say, falls to restore', () => {
  assert.equal(
    chooseRollbackStrategy({ previousReleaseId: 'r1', appliedMigrations: [], hasSwitchBackFailed: true }).strategy,
    'restore',
  );
  assert.deepEqual(chooseRollbackStrategy({ previousReleaseId: 'r1', appliedMigrations: undefined }), {
    strategy: 'restore',
    reason: 'the deploy journal does not record which migrations the deploy applied',
  });
});

test('a first deploy has nothing to roll back to, whatever it applied', () => {
  assert.deepEqual(chooseRollbackStrategy({ appliedMigrations: [withDown] }), {
    strategy: 'none',
    reason: FIRST_DEPLOY_REASON,
  });
  assert.equal(FIRST_DEPLOY_REASON, 'first deploy: nothing to roll back to');
  assert.equal(
    formatRollbackStrategy(chooseRollbackStrategy({ appliedMigrations: [] })),
    'none (first deploy: nothing to roll back to)',
  );
});

test('reads the previous release and the applied migrations of one deploy from the journal', () => {
  const entries = [
    { deployId: 'd1', kind: 'deploy', step: 'deploy:start', previousReleaseId: 'r0' },
    { deployId: 'd2', kind: 'deploy', step: 'deploy:start', previousReleaseId: 'r1' },
    { deployId: 'd2', kind: 'deploy', step: 'deploy:rollback-strategy', appliedMigrations: [withDown] },
    { deployId: 'd3', kind: 'deploy', step: 'deploy:start' },
  ];
  assert.deepEqual(getDeployRollbackFacts(entries, 'd2'), { previousReleaseId: 'r1', appliedMigrations: [withDown] });
  assert.deepEqual(getDeployRollbackFacts(entries, 'd1'), { previousReleaseId: 'r0', appliedMigrations: undefined });
  assert.deepEqual(getDeployRollbackFacts(entries, 'd3'), { appliedMigrations: undefined });
});
