// Pure: how a fleet rollout is rolled back, chosen as on one host (core/rollback-strategy.ts) from what it migrated.
import {
  chooseRollbackStrategy,
  type AppliedMigrationFact,
  type RollbackStrategyChoice,
} from '../core/rollback-strategy.js';
import type { FleetMigration } from './fleet-database.js';

/**
 * A migration the previous release still runs against does not have to be undone to switch a host back, so only the
 * others count; a fleet rollout refuses those before it starts, which leaves `switch-back` with the live database
 * kept. `hasPreviousRelease`: some host runs a release to return to (a fleet's first deploy has none).
 */
export function chooseFleetRollbackStrategy(input: {
  hasPreviousRelease: boolean;
  migrations: readonly FleetMigration[];
}): RollbackStrategyChoice {
  const breaking: AppliedMigrationFact[] = input.migrations
    .filter((m) => !m.isBackwardCompatible)
    .map((m) => ({ version: m.version, name: m.name, hasDown: m.hasDown }));
  const choice = chooseRollbackStrategy({
    ...(input.hasPreviousRelease ? { previousReleaseId: '(each host its own)' } : {}),
    appliedMigrations: breaking,
  });
  if (choice.strategy !== 'switch-back' || input.migrations.length === 0) return choice;
  const versions = input.migrations.map((m) => m.version).join(', ');
  return {
    strategy: 'switch-back',
    reason:
      `every migration of the rollout is backward compatible (${versions}): ` +
      'each host switches back to its previous release and the live database is kept',
  };
}
