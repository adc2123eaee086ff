// Pure description of a deploy or rollback as data: the ordered named steps, shown by --dry-run and run by the step
// runners.
import { formatRollbackStrategy, type RollbackStrategyChoice } from './rollback-strategy.js';

export type DeployStepName =
  | 'deploy:preflight'
  | 'deploy:lock'
  | 'deploy:stage'
  | 'deploy:migrate'
  | 'deploy:symlink'
  | 'deploy:restart'
  | 'deploy:healthcheck'
  | 'deploy:smoke'
  | 'deploy:prune'
  | 'deploy:switch-back';

export interface PlanStep {
  name: string;
  description: string;
  /** Whether a failure of this step switches back to the previous release. */
  switchesBackOnFailure: boolean;
}

export interface DeployPlanInput {
  envName: string;
  releaseId: string;
  currentReleaseId?: string;
  isReleaseOnDisk: boolean;
  pendingMigrations: number;
  healthyChecksRequired: number;
  keepReleases: number;
  targetType: string;
  /** How a violated gate after this deploy would be rolled back (src/rollout/core/rollback-strategy.ts). */
  rollbackStrategy?: RollbackStrategyChoice;
}

export interface DeployPlan {
  isFirstDeploy: boolean;
  steps: PlanStep[];
  rollbackStrategy?: RollbackStrategyChoice;
}

export function createDeployPlan(input: DeployPlanInput): DeployPlan {
  const isFirstDeploy = !input.currentReleaseId;
  const steps: PlanStep[] = [
    { name: 'deploy:lock', description: `take the deploy lock of \`${input.envName}\``, switchesBackOnFailure: false },
    {
      name: 'deploy:stage',
      description: input.isReleaseOnDisk
        ? `reuse releases/${input.releaseId} (same content already on disk)`
        : `copy the release into releases/${input.releaseId}`,
      switchesBackOnFailure: false,
    },
    {
      name: 'deploy:migrate',
      description:
        input.pendingMigrations > 0
          ? `apply ${input.pendingMigrations} pending migration(s) to shared/dhash.sqlite`
          : 'no pending migrations',
      switchesBackOnFailure: false,
    },
    {
      name: 'deploy:symlink',
      description: isFirstDeploy
        ? `first deploy: point current at releases/${input.releaseId}`
        : `switch current from releases/${input.currentReleaseId} to releases/${input.releaseId} (atomic rename)`,
      switchesBackOnFailure: true,
    },
    {
      name: 'deploy:restart',
      description: `restart the service through the ${input.targetType} driver`,
      switchesBackOnFailure: true,
    },
    {
      name: 'deploy:healthcheck',
      description: `wait for ${input.healthyChecksRequired} consecutive OK health checks`,
      switchesBackOnFailure: true,
    },
    {
      name: 'deploy:smoke',
      description: 'run the smoke tests (health, metrics, fixture hash, library round trip)',
      switchesBackOnFailure: true,
    },
    {
      name: 'deploy:prune',
      description: `keep the ${input.keepReleases} newest releases (never current nor the previous one)`,
      switchesBackOnFailure: false,
    },
  ];
  return { isFirstDeploy, steps, ...(input.rollbackStrategy ? { rollbackStrategy: input.rollbackStrategy } : {}) };
}

/** The human-readable plan printed by `deploy --dry-run`. */
export function formatDeployPlan(plan: DeployPlan): string {
  const lines = plan.steps.map((s, i) => `  ${i + 1}. ${s.name.padEnd(20)} ${s.description}`);
  const failure = plan.isFirstDeploy
    ? '  If a step from deploy:symlink on fails: stop the new release (first deploy: nothing to switch back to).'
    : '  If a step from deploy:symlink on fails: deploy:switch-back to the previous release, ' +
      'restart it, verify its health.';
  const rollback = plan.rollbackStrategy
    ? [`  Rollback strategy after a violated gate: ${formatRollbackStrategy(plan.rollbackStrategy)}.`]
    : [];
  return [...lines, failure, ...rollback].join('\n');
}
