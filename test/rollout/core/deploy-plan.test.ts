// The deploy plan as data: ordered `area:action` steps, and what happens on failure, for first and later deploys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeployPlan, formatDeployPlan } from '../../../src/rollout/core/deploy-plan.js';

const input = {
  envName: 'staging',
  releaseId: 'R2',
  isReleaseOnDisk: false,
  pendingMigrations: 1,
  healthyChecksRequired: 3,
  keepReleases: 5,
  targetType: 'process',
};

test('lists the steps in order, switching back only from deploy:symlink on', () => {
  const plan = createDeployPlan({ ...input, currentReleaseId: 'R1' });
  assert.deepEqual(
    plan.steps.map((s) => s.name),
    [
      'deploy:lock',
      'deploy:stage',
      'deploy:migrate',
      'deploy:symlink',
      'deploy:restart',
      'deploy:healthcheck',
      'deploy:smoke',
      'deploy:prune',
    ],
  );
  assert.deepEqual(
    plan.steps.filter((s) => s.switchesBackOnFailure).map((s) => s.name),
    ['deploy:symlink', 'deploy:restart', 'deploy:healthcheck', 'deploy:smoke'],
  );
  assert.equal(plan.isFirstDeploy, false);
  assert.match(formatDeployPlan(plan), /switch current from releases\/R1 to releases\/R2 \(atomic rename\)/);
  assert.match(formatDeployPlan(plan), /deploy:switch-back to the previous release/);
});

test('says first deploy when nothing is deployed, and reuse when the content is on disk', () => {
  const plan = createDeployPlan({ ...input, isReleaseOnDisk: true, pendingMigrations: 0 });
  assert.equal(plan.isFirstDeploy, true);
  const text = formatDeployPlan(plan);
  assert.match(text, /first deploy: point current at releases\/R2/);
  assert.match(text, /reuse releases\/R2 \(same content already on disk\)/);
  assert.match(text, /no pending migrations/);
  assert.match(text, /nothing to switch back to/);
});

test('shows the rollback strategy the deploy would get', () => {
  const plan = createDeployPlan({
    ...input,
    currentReleaseId: 'R1',
    rollbackStrategy: { strategy: 'switch-back', reason: 'the deploy applied no migration: the live database is kept' },
  });
  assert.match(
    formatDeployPlan(plan),
    new RegExp(
      '^ {2}Rollback strategy after a violated gate: switch-back \\(the deploy applied no migration: the ' +
        'live database is kept\\)\\.$',
      'm',
    ),
  );
  assert.equal(plan.rollbackStrategy?.strategy, 'switch-back');
});
