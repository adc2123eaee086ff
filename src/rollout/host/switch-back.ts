// A fleet host's switch-back after the release it switched to failed its health checks: shielded from interrupts,
// verified healthy, never stopping the only release.
import { createError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { waitForServiceHealthy } from '../checks/service-health.js';
import { describeServingNow, runSafetyOperation } from '../deploy/safety-path.js';
import type { StepRunner } from '../deploy/step-runner.js';
import { switchCurrentRelease } from '../release/release-dirs.js';
import type { TargetDriver } from '../target/index.js';

export interface SwitchBackInput {
  environment: ResolvedEnvironment;
  driver: TargetDriver;
  steps: StepRunner;
  clock: Clock;
  /** The step name in the journal (`deploy:switch-back`, `rollback:switch-back`). */
  stepName: string;
  /** What `current` pointed at before the switch; undefined on a first activation. */
  previousReleaseId: string | undefined;
  /** The interrupted operation's signal: the switch-back ignores its first interrupt, a second one abandons it. */
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

/**
 * Stops the failed release, points `current` back, starts the previous one and waits for its health checks. With no
 * previous release nothing is stopped: the guard never stops the only release (a half-working one may still answer).
 * Never throws: the result says what happened.
 */
export async function switchBackHost(input: SwitchBackInput): Promise<{ ok: boolean; detail: string }> {
  const { environment, driver, steps, clock } = input;
  const previous = input.previousReleaseId;
  if (!previous) {
    const detail =
      'first activation: there is no previous release to switch back to, so the new release was left as it is ' +
      '(the guard never stops the only release): a human must act';
    await steps.record(input.stepName, 'failed', detail);
    return { ok: false, detail };
  }
  try {
    const outcome = await runSafetyOperation({
      name: input.stepName,
      clock,
      signal: input.signal,
      onNotice: input.onProgress,
      describeLeftState: async () => (await describeServingNow(environment, clock)).text,
      run: (escape) =>
        steps.run(input.stepName, async () => {
          // Abandoned (second interrupt): stop between actions, never in the middle of one.
          await driver.stop();
          escape.throwIfAborted();
          await switchCurrentRelease(environment, previous);
          escape.throwIfAborted();
          await driver.start();
          escape.throwIfAborted();
          await waitForServiceHealthy(environment, driver, {
            consecutiveOk: environment.config.deploy.healthyChecksRequired,
            clock,
            signal: escape,
          });
          return `switched back to ${previous}; it is healthy`;
        }),
    });
    if (outcome.isAbandoned) {
      const abandoned = createError('ESAFETYABANDONED', { step: input.stepName, leftState: outcome.leftState });
      await steps.record(input.stepName, 'failed', `${abandoned.message} ${outcome.leftState}`);
      return {
        ok: false,
        detail: `switching back to ${previous} was ABANDONED by a second interrupt; state left: ${outcome.leftState}`,
      };
    }
    return { ok: true, detail: `switched back to ${previous}, which is serving and healthy` };
  } catch (error) {
    return {
      ok: false,
      detail: `switching back to ${previous} FAILED (${(error as Error).message}): a human must act`,
    };
  }
}
