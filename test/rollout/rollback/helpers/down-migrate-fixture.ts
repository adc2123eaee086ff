// What the down-migrate tests share on either engine: the migration they revert and a rollback context whose driver
// only records what it was asked to do.
import type { ResolvedEnvironment } from '../../../../src/rollout/config/environments.js';
import { createSystemClock } from '../../../../src/lib/clock.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';
import { createStepRunner } from '../../../../src/rollout/deploy/step-runner.js';
import type { RollbackContext } from '../../../../src/rollout/rollback/rollback-checks.js';
import type { TargetDriver } from '../../../../src/rollout/target/index.js';
import type { Migration } from '../../../../src/service/store/index.js';

/** Migration 3 adds a table and its reviewed down drops it. */
export const NOTES_MIGRATION: Migration = {
  version: 3,
  name: 'add_notes',
  sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY);',
  down: 'DROP TABLE notes;',
};

/**
 * A rollback context on `environment` whose driver records `stop` and `restart` in `calls`. Nothing listens in these
 * tests, so the health wait is shortened to fail fast.
 */
export function createRecordingRollbackContext(
  environment: ResolvedEnvironment,
  processEnv?: Record<string, string | undefined>,
): { calls: string[]; ctx: RollbackContext } {
  environment.config.deploy.healthTimeoutMs = 300;
  const calls: string[] = [];
  const driver = {
    type: 'fake',
    stop: async () => void calls.push('stop'),
    restart: async () => (calls.push('restart'), { isRunning: true, detail: 'restarted' }),
  } as unknown as TargetDriver;
  const clock = createSystemClock();
  const logger = createSilentLogger();
  const steps = createStepRunner({ environment, deployId: 'staging-test', kind: 'rollback', clock, logger });
  return { calls, ctx: { environment, clock, logger, driver, steps, processEnv } };
}
