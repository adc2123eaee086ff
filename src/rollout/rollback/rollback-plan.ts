// What a deploy records for its rollback (applied migrations, chosen strategy) and how the plan predicts it.
import { MIGRATIONS, type Migration } from '../../service/store/index.js';
import {
  chooseRollbackStrategy,
  formatRollbackStrategy,
  getDeployRollbackFacts,
  ROLLBACK_STRATEGY_STEP,
  type AppliedMigrationFact,
  type RollbackStrategyChoice,
} from '../core/rollback-strategy.js';
import type { StepRunner } from '../deploy/step-runner.js';

/** The facts the journal keeps about applied migrations: whether each has a reviewed down decides down-migrate. */
export function describeAppliedMigrations(
  applied: readonly { version: number; name: string }[],
  migrations: readonly Migration[] = MIGRATIONS,
): AppliedMigrationFact[] {
  return applied.map((a) => ({
    version: a.version,
    name: a.name,
    hasDown: migrations.find((m) => m.version === a.version)?.down !== undefined,
  }));
}

/**
 * The plan's prediction before anything runs: the `pendingMigrations` newest migrations are the ones the deploy
 * applies.
 */
export function predictRollbackStrategy(
  input: { previousReleaseId?: string; pendingMigrations: number },
  migrations: readonly Migration[] = MIGRATIONS,
): RollbackStrategyChoice {
  const pending = input.pendingMigrations > 0 ? migrations.slice(-input.pendingMigrations) : [];
  return chooseRollbackStrategy({
    previousReleaseId: input.previousReleaseId,
    appliedMigrations: describeAppliedMigrations(pending, migrations),
  });
}

/**
 * Journals `deploy:rollback-strategy` with the applied migrations, so the monitor and `dhash status` know the strategy.
 */
export async function recordRollbackStrategy(
  steps: StepRunner,
  previousReleaseId: string | undefined,
  appliedMigrations: AppliedMigrationFact[],
): Promise<RollbackStrategyChoice> {
  const choice = chooseRollbackStrategy({ previousReleaseId, appliedMigrations });
  await steps.record(ROLLBACK_STRATEGY_STEP, 'succeeded', `rollback strategy: ${formatRollbackStrategy(choice)}`, {
    appliedMigrations,
    rollbackStrategy: choice.strategy,
  });
  return choice;
}

/** `dhash status`: how the latest deploy would be rolled back, from what its journal entries say. */
export function describeLatestDeployStrategy(
  entries: readonly { deployId: string; kind: string; step: string; [key: string]: unknown }[],
): string {
  const start = [...entries].reverse().find((e) => e.kind === 'deploy' && e.step === 'deploy:start');
  if (!start) return 'none (nothing deployed through dhash yet)';
  const strategy = chooseRollbackStrategy(getDeployRollbackFacts(entries, start.deployId));
  return `${formatRollbackStrategy(strategy)} for ${start.deployId}`;
}
