// Pure: which rollback a deploy gets (switch-back, down-migrate, restore), from what the deploy journal says it did.

export type RollbackStrategy = 'switch-back' | 'down-migrate' | 'restore';

/** A migration the deploy applied, as the journal records it (`deploy:rollback-strategy` entry). */
export interface AppliedMigrationFact {
  version: number;
  name: string;
  hasDown: boolean;
}

export interface RollbackStrategyInput {
  /** The release serving before the deploy; undefined for a first deploy. */
  previousReleaseId?: string;
  /** undefined when the journal does not say (a deploy journaled before strategies existed). */
  appliedMigrations: readonly AppliedMigrationFact[] | undefined;
  /** The switch-back (or down-migrate) was tried and its health checks failed: only a restore is left. */
  hasSwitchBackFailed?: boolean;
}

export type RollbackStrategyChoice =
  { strategy: RollbackStrategy; reason: string } | { strategy: 'none'; reason: typeof FIRST_DEPLOY_REASON };

/** The exact reason `rollback-failure` carries for a first deploy (the contract's wording). */
export const FIRST_DEPLOY_REASON = 'first deploy: nothing to roll back to';

export function chooseRollbackStrategy(input: RollbackStrategyInput): RollbackStrategyChoice {
  if (!input.previousReleaseId) return { strategy: 'none', reason: FIRST_DEPLOY_REASON };
  if (input.hasSwitchBackFailed) return { strategy: 'restore', reason: 'the switch-back failed its health checks' };
  const applied = input.appliedMigrations;
  if (applied === undefined)
    return { strategy: 'restore', reason: 'the deploy journal does not record which migrations the deploy applied' };
  if (applied.length === 0)
    return { strategy: 'switch-back', reason: 'the deploy applied no migration: the live database is kept' };
  const withoutDown = applied.filter((m) => !m.hasDown);
  if (withoutDown.length === 0) {
    return {
      strategy: 'down-migrate',
      reason: `every migration the deploy applied has a reviewed down (${applied.map((m) => m.version).join(', ')})`,
    };
  }
  return {
    strategy: 'restore',
    reason: `migration ${withoutDown.map((m) => `${m.version} (${m.name})`).join(', ')} has no down`,
  };
}

/** One line for plans, status and incidents: `switch-back (the deploy applied no migration: …)`. */
export function formatRollbackStrategy(choice: RollbackStrategyChoice): string {
  return `${choice.strategy === 'none' ? 'none' : choice.strategy} (${choice.reason})`;
}

/** The journal step that records what a deploy did for its rollback. */
export const ROLLBACK_STRATEGY_STEP = 'deploy:rollback-strategy';

/**
 * What the journal recorded for `deployId`: its previous release and applied migrations (undefined when not recorded).
 */
export function getDeployRollbackFacts(
  entries: readonly { deployId: string; kind: string; step: string; [key: string]: unknown }[],
  deployId: string,
): { previousReleaseId?: string; appliedMigrations: AppliedMigrationFact[] | undefined } {
  const mine = entries.filter((e) => e.deployId === deployId && e.kind === 'deploy');
  const start = mine.find((e) => e.step === 'deploy:start');
  const recorded = [...mine].reverse().find((e) => e.step === ROLLBACK_STRATEGY_STEP);
  const previous =
    typeof start?.previousReleaseId === 'string' && start.previousReleaseId ? start.previousReleaseId : undefined;
  const applied = Array.isArray(recorded?.appliedMigrations)
    ? (recorded.appliedMigrations as AppliedMigrationFact[])
    : undefined;
  return { ...(previous ? { previousReleaseId: previous } : {}), appliedMigrations: applied };
}
