// What every rollback strategy ends with: start or restart, 3 consecutive OK health checks, smoke tests, as named
// steps.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { StepRunner } from '../deploy/step-runner.js';
import type { HealthWaitResult } from '../checks/health.js';
import { waitForServiceHealthy } from '../checks/service-health.js';
import { runSmokeTests, type SmokeResult } from '../checks/smoke.js';
import { createError } from '../../lib/errors.js';
import { describeServingNow, runSafetyOperation } from '../deploy/safety-path.js';
import type { TargetDriver } from '../target/index.js';

/** The contract fixes three consecutive OK checks after a rollback, whatever the deploy setting. */
export const ROLLBACK_HEALTHY_CHECKS = 3;

export interface RollbackContext {
  environment: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  driver: TargetDriver;
  steps: StepRunner;
  signal?: AbortSignal;
  /** The environment PostgreSQL's client programs run with (pg_restore); the CLI's. */
  processEnv?: Record<string, string | undefined>;
}

/**
 * `rollback:healthcheck`: 3 consecutive OK checks; a service process that exited ends the wait at once. Throws when not
 * healthy.
 */
export async function waitForRollbackHealth(ctx: RollbackContext): Promise<HealthWaitResult> {
  const { environment, clock } = ctx;
  // The target is touched: an interrupt must not cut the verification short (safety-path.ts); a second one abandons it.
  const shielded = await runSafetyOperation({
    name: 'rollback:healthcheck',
    clock,
    signal: ctx.signal,
    describeLeftState: async () => (await describeServingNow(environment, clock)).text,
    run: (escape) => checkRollbackHealth(ctx, escape),
  });
  if (shielded.isAbandoned)
    throw createError('ESAFETYABANDONED', { step: 'rollback:healthcheck', leftState: shielded.leftState });
  return shielded.value;
}

async function checkRollbackHealth(ctx: RollbackContext, signal: AbortSignal): Promise<HealthWaitResult> {
  const { environment, clock, driver } = ctx;
  return ctx.steps.run(
    'rollback:healthcheck',
    () => waitForServiceHealthy(environment, driver, { consecutiveOk: ROLLBACK_HEALTHY_CHECKS, clock, signal }),
    (h) => `${ROLLBACK_HEALTHY_CHECKS} consecutive OK checks (${h.checks.length} in all)`,
  );
}

/** `rollback:smoke`: the smoke tests against the service now serving; throws naming the failed checks. */
export async function runRollbackSmoke(ctx: RollbackContext): Promise<SmokeResult> {
  return ctx.steps.run(
    'rollback:smoke',
    async () => {
      const result = await runSmokeTests(ctx.environment, { clock: ctx.clock });
      if (!result.ok)
        throw Object.assign(
          new Error(
            `smoke test failed: ${result.checks
              .filter((c) => !c.ok)
              .map((c) => `${c.name} (${c.detail})`)
              .join('; ')}`,
          ),
          { smoke: result },
        );
      return result;
    },
    (s) => `${s.checks.length} checks passed`,
  );
}
