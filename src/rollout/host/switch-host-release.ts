// `dhash host activate|rollback`: under the host's lock, switch `current` to a staged release, restart, wait for N OK
// health checks; when they fail, switch back and verify the previous release. Journaled like a single-host deploy.
import type { Clock } from '../../lib/clock.js';
import { ExitCode, type ExitCodeValue } from '../../lib/exit-codes.js';
import type { Logger } from '../../lib/logger.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { checkHealthOnce } from '../checks/health.js';
import { waitForServiceHealthy } from '../checks/service-health.js';
import { createDeployId } from '../core/release-naming.js';
import { describeServingNow } from '../deploy/safety-path.js';
import { createStepRunner, type StepRunner } from '../deploy/step-runner.js';
import { getCurrentReleaseId, pruneReleases, switchCurrentRelease } from '../release/release-dirs.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import type { TargetDriver } from '../target/index.js';
import type { HostActivationReport } from './host-report.js';
import {
  cutToRelease,
  pushRelease,
  readReleaseHistory,
  writeReleaseHistory,
  type HostServiceSettings,
} from './release-history.js';
import { switchBackHost } from './switch-back.js';
import { verifyStagedRelease } from './verify-staged-release.js';

export interface HostSwitchInput {
  environment: ResolvedEnvironment;
  action: 'activate' | 'rollback';
  releaseId: string;
  service: HostServiceSettings;
  driver: TargetDriver;
  clock: Clock;
  logger: Logger;
  /** Aborted by the first SIGINT/SIGTERM: no forward step starts after it; a switch-back that began completes. */
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export interface HostSwitchOutcome {
  report: HostActivationReport;
  exitCode: ExitCodeValue;
}

const STEP_NAMES = {
  activate: {
    kind: 'deploy',
    start: 'deploy:start',
    verify: 'deploy:verify-release',
    switch: 'deploy:symlink',
    restart: 'deploy:restart',
    health: 'deploy:healthcheck',
    back: 'deploy:switch-back',
    finish: 'deploy:finish',
  },
  rollback: {
    kind: 'rollback',
    start: 'rollback:begin',
    verify: 'rollback:verify-release',
    switch: 'rollback:switch',
    restart: 'rollback:restart',
    health: 'rollback:healthcheck',
    back: 'rollback:switch-back',
    finish: 'rollback:finish',
  },
} as const;

/**
 * Refusals throw before anything changes: ELOCKED (exit 3), ERELEASENOTSTAGED, EBADRELEASE, ECHECKSUMMISMATCH. Every
 * outcome after the lock is a report with its exit code: 0 the release serves, verified; 1 it failed and the previous
 * release serves, verified; 4 a human must act (a first activation failed, a rollback or switch-back failed).
 */
export async function switchHostRelease(input: HostSwitchInput): Promise<HostSwitchOutcome> {
  const { environment, clock, logger } = input;
  const lock = await acquireEnvironmentLock(environment, {
    purpose: `host ${input.action} of ${input.releaseId}`,
    clock,
    logger,
  });
  try {
    await verifyStagedRelease(environment, input.releaseId);
    const names = STEP_NAMES[input.action];
    const deployId = createDeployId(environment.name, clock.now());
    const steps = createStepRunner({
      environment,
      deployId,
      kind: names.kind,
      clock,
      logger,
      onProgress: input.onProgress,
    });
    const previous = await getCurrentReleaseId(environment);
    await steps.begin(names.start, `release ${input.releaseId}`, {
      releaseId: input.releaseId,
      previousReleaseId: previous,
    });
    const base = { action: input.action, deployId, releaseId: input.releaseId, previousReleaseId: previous };
    const outcome =
      previous === input.releaseId ? await ensureRunning(input, steps) : await switchAndVerify(input, steps, previous);
    const serving = await describeServingNow(environment, clock);
    const isActivated = outcome.ok && serving.releaseId === input.releaseId && serving.isHealthy;
    await recordHistory(input, steps, previous, isActivated);
    const exitCode = chooseExitCode(input.action, isActivated, outcome.switchBack, previous, serving);
    const message = describeOutcome(input, isActivated, outcome, serving.text);
    await steps.record(names.finish, isActivated ? 'succeeded' : 'failed', message, { releaseId: input.releaseId });
    const report: HostActivationReport = {
      ...base,
      isAlreadyActive: outcome.isAlreadyActive,
      isFirstActivation: previous === undefined,
      isActivated,
      ...(outcome.failureReason ? { failureReason: outcome.failureReason } : {}),
      ...(outcome.switchBack && previous ? { switchBack: { releaseId: previous, ...outcome.switchBack } } : {}),
      serving: { releaseId: serving.releaseId, isHealthy: serving.isHealthy, detail: serving.text },
      timeline: steps.timeline,
      message,
    };
    return { report, exitCode };
  } finally {
    await lock.release();
  }
}

interface SwitchResult {
  ok: boolean;
  isAlreadyActive: boolean;
  failureReason?: string;
  switchBack?: { ok: boolean; detail: string };
}

/** The release asked for is current already: left alone when it answers, restarted when it does not. */
async function ensureRunning(input: HostSwitchInput, steps: StepRunner): Promise<SwitchResult> {
  const { environment, driver, clock } = input;
  const status = await driver.status();
  const probe = await checkHealthOnce(environment.healthUrl, clock, 3000, getServiceAuthHeaders(environment));
  if (status.isRunning && probe.ok) return { ok: true, isAlreadyActive: true };
  try {
    await restartAndWaitForHealth(input, steps);
    return { ok: true, isAlreadyActive: false };
  } catch (error) {
    return { ok: false, isAlreadyActive: false, failureReason: (error as Error).message };
  }
}

async function switchAndVerify(
  input: HostSwitchInput,
  steps: StepRunner,
  previous: string | undefined,
): Promise<SwitchResult> {
  const { environment, driver } = input;
  const names = STEP_NAMES[input.action];
  let isSwitched = false;
  try {
    if (input.signal?.aborted) {
      const reason = (input.signal.reason as Error | undefined)?.message ?? 'aborted';
      throw new Error(`interrupted (${reason}) before ${names.switch}`);
    }
    await steps.run(names.switch, async () => {
      await switchCurrentRelease(environment, input.releaseId);
      isSwitched = true;
      return `current → releases/${input.releaseId}`;
    });
    await restartAndWaitForHealth(input, steps);
    return { ok: true, isAlreadyActive: false };
  } catch (error) {
    const failureReason = (error as Error).message;
    if (!isSwitched) return { ok: false, isAlreadyActive: false, failureReason };
    const switchBack = await switchBackHost({
      environment,
      driver,
      steps,
      clock: input.clock,
      stepName: names.back,
      previousReleaseId: previous,
      signal: input.signal,
      onProgress: input.onProgress,
    });
    return { ok: false, isAlreadyActive: false, failureReason, switchBack };
  }
}

/** The restart and health steps after a switch, or of a current release that did not answer. */
async function restartAndWaitForHealth(input: HostSwitchInput, steps: StepRunner): Promise<void> {
  const names = STEP_NAMES[input.action];
  await steps.run(
    names.restart,
    () => input.driver.restart(),
    (s) => s.detail,
  );
  await steps.run(
    names.health,
    () => waitForHealth(input),
    (h) => `${h.checks.length} check(s)`,
  );
}

function waitForHealth(input: HostSwitchInput) {
  return waitForServiceHealthy(input.environment, input.driver, {
    consecutiveOk: input.environment.config.deploy.healthyChecksRequired,
    clock: input.clock,
    signal: input.signal,
  });
}

/**
 * The history a later rollback reads (its releases change only on success; the service settings of every attempt
 * are kept, so `host status` probes the right address), then pruning after an activation: never current nor previous.
 */
async function recordHistory(
  input: HostSwitchInput,
  steps: StepRunner,
  previous: string | undefined,
  isActivated: boolean,
): Promise<void> {
  const { environment, clock } = input;
  const history = await readReleaseHistory(environment);
  // A host first deployed by other means: its release is still where a rollback should return to.
  const known =
    previous && !history.releaseIds.includes(previous) ? [...history.releaseIds, previous] : history.releaseIds;
  const releaseIds = !isActivated
    ? history.releaseIds
    : input.action === 'activate'
      ? pushRelease({ releaseIds: known }, input.releaseId)
      : cutToRelease({ releaseIds: known }, previous, input.releaseId);
  await writeReleaseHistory(environment, releaseIds, input.service, clock.now());
  if (!isActivated || input.action !== 'activate' || previous === input.releaseId) return;
  await steps
    .run(
      'deploy:prune',
      () => pruneReleases(environment, { keep: environment.config.releases.keep, previous }),
      (ids) => (ids.length ? `removed ${ids.join(', ')}` : 'nothing to prune'),
    )
    // Pruning is housekeeping: the release serves either way, and the failure is in the journal.
    .catch(() => {});
}

function chooseExitCode(
  action: HostSwitchInput['action'],
  isActivated: boolean,
  switchBack: SwitchResult['switchBack'],
  previous: string | undefined,
  serving: { releaseId?: string; isHealthy: boolean },
): ExitCodeValue {
  if (isActivated) return ExitCode.OK;
  if (action === 'rollback') return ExitCode.HUMAN_NEEDED;
  const isPreviousServing = Boolean(previous) && serving.releaseId === previous && serving.isHealthy;
  // A failure before the switch changed nothing; after it, only a verified switch-back is a plain failure.
  if (!switchBack) return isPreviousServing || !previous ? ExitCode.FAILED : ExitCode.HUMAN_NEEDED;
  return switchBack.ok && isPreviousServing ? ExitCode.FAILED : ExitCode.HUMAN_NEEDED;
}

function describeOutcome(input: HostSwitchInput, isActivated: boolean, outcome: SwitchResult, serving: string): string {
  const verb = input.action === 'activate' ? 'activated' : 'rolled back to';
  if (isActivated && outcome.isAlreadyActive) return `${input.releaseId} was already current and healthy; ${serving}`;
  if (isActivated) return `${verb} ${input.releaseId}; ${serving}`;
  const failed = `${input.action} of ${input.releaseId} failed (${outcome.failureReason ?? 'not healthy'})`;
  return `${failed}${outcome.switchBack ? `; ${outcome.switchBack.detail}` : ''}; now ${serving}`;
}
