// deploy: preflight → lock → stage → migrate → switch `current` → restart → N healthy checks → smoke;
// switch back on failure.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { ExitCode, type ExitCodeValue } from '../../lib/exit-codes.js';
import { createDeployId } from '../core/release-naming.js';
import { createDeployPlan, formatDeployPlan, type DeployPlan } from '../core/deploy-plan.js';
import type { Logger } from '../../lib/logger.js';
import type { Notifier } from '../notify/index.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import { supersedeMonitor } from '../monitor/supersede-monitor.js';
import { createStepRunner, type TimelineEntry } from './step-runner.js';
import type { HealthWaitResult } from '../checks/health.js';
import { waitForServiceHealthy } from '../checks/service-health.js';
import { checkReleaseSource } from './release-check.js';
import { formatPreflight, runPreflight, type PreflightCheck, type PreflightReport } from './preflight.js';
import { runSmokeTests, type SmokeResult } from '../checks/smoke.js';
import { describeServingNow, runSafetyOperation } from './safety-path.js';
import { rethrowAsNoSpace } from '../../lib/no-space.js';
import { createTargetDriver, type TargetDriver } from '../target/index.js';
import { resolveReleaseSource, type ReleaseSource } from '../release/resolve-release-source.js';
import {
  findReleaseByContentSha256,
  getCurrentReleaseId,
  pruneReleases,
  stageRelease,
  switchCurrentRelease,
} from '../release/release-dirs.js';
import { applyLocationMigrations, getMigrationLocation } from './environment-migrations.js';
import {
  removePreMigrateSnapshot,
  restorePreMigrateSnapshot,
  takePreMigrateSnapshot,
  type PreMigrateSnapshot,
} from './pre-migrate-snapshot.js';
import {
  describeAppliedMigrations,
  predictRollbackStrategy,
  recordRollbackStrategy,
} from '../rollback/rollback-plan.js';
import type { AppliedMigrationFact } from '../core/rollback-strategy.js';

export interface DeployOptions {
  environment: ResolvedEnvironment;
  /** A release directory or .tar.gz; default: build the checkout at env.paths.root. */
  release?: string;
  isDryRun?: boolean;
  force?: boolean;
  clock: Clock;
  logger: Logger;
  notifier?: Notifier;
  /** The backup the pipeline took just before; recorded in the journal's deploy:start entry. */
  backupFile?: string;
  /** Variables the service process inherits. */
  processEnv?: Record<string, string | undefined>;
  /** Aborted by the first interrupt: no further forward step starts; a switch-back that began still completes. */
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  driver?: TargetDriver;
  /** Whether the caller backs up before the deploy (quick-deploy): preflight then checks the backup folder's space. */
  isBackupPlanned?: boolean;
  /** The report of a preflight already run for this deploy (quick-deploy's preflight:validate): used, not run again. */
  preflight?: PreflightReport;
}

export interface DeployResult {
  ok: boolean;
  exitCode: ExitCodeValue;
  isDryRun: boolean;
  deployId?: string;
  releaseId: string;
  previousReleaseId?: string;
  isFirstDeploy: boolean;
  preflight: PreflightReport;
  plan: DeployPlan;
  timeline: TimelineEntry[];
  healthChecks?: HealthWaitResult;
  smoke?: SmokeResult;
  switchBack?: { ok: boolean; detail: string };
  prunedReleaseIds: string[];
  message: string;
}

/** Refusals (preflight, lock) throw a DhashError; anything after the lock ends in a result with its exit code. */
export async function deployRelease(options: DeployOptions): Promise<DeployResult> {
  const { environment, clock, logger } = options;
  const progress = options.onProgress ?? (() => {});
  const driver =
    options.driver ??
    createTargetDriver(environment, { clock, logger: logger.child('target'), processEnv: options.processEnv });
  const previousReleaseId = await getCurrentReleaseId(environment);
  const resolved = await checkReleaseSource(() =>
    resolveReleaseSource({
      projectRoot: environment.paths.root,
      release: options.release,
      clock,
      isPlanOnly: options.isDryRun,
    }),
  );
  const source: ReleaseSource | undefined = resolved.source;
  const releaseCheck: PreflightCheck = resolved.check;
  // A full disk while building the checkout is refused as itself (the folder, needed and free), not as a bad release.
  if (resolved.error && isDhashError(resolved.error, 'ENOSPACE')) releaseCheck.error = resolved.error;
  try {
    // Do work once: a caller that already validated this deploy passes its report; the release is still resolved here.
    const preflight = options.preflight
      ? {
          ...options.preflight,
          checks: options.preflight.checks.map((c) =>
            c.name === 'preflight:release' && !releaseCheck.ok ? releaseCheck : c,
          ),
        }
      : await runPreflight({
          environment,
          driver,
          clock,
          force: Boolean(options.force),
          currentReleaseId: previousReleaseId,
          releaseCheck,
          release: source,
          isBackupPlanned: options.isBackupPlanned,
        });
    if (options.preflight && !releaseCheck.ok) preflight.ok = false;
    const releaseId = source?.manifest.releaseId ?? '(unresolved)';
    const onDisk = source?.manifest.contentSha256
      ? await findReleaseByContentSha256(environment, source.manifest.contentSha256)
      : undefined;
    const plan = createDeployPlan({
      envName: environment.name,
      releaseId: onDisk?.releaseId ?? releaseId,
      currentReleaseId: previousReleaseId,
      isReleaseOnDisk: Boolean(onDisk),
      pendingMigrations: preflight.pendingMigrations,
      healthyChecksRequired: environment.config.deploy.healthyChecksRequired,
      keepReleases: environment.config.releases.keep,
      targetType: environment.config.target.type,
      rollbackStrategy: predictRollbackStrategy({ previousReleaseId, pendingMigrations: preflight.pendingMigrations }),
    });
    if (!options.preflight) progress(`Pre-deploy validation of ${environment.name}:\n${formatPreflight(preflight)}`);
    const currentLabel = plan.isFirstDeploy
      ? 'first deploy: nothing deployed yet'
      : `current release ${previousReleaseId}`;
    progress(`Plan (${currentLabel}):\n${formatDeployPlan(plan)}`);
    const base = {
      releaseId,
      previousReleaseId,
      isFirstDeploy: plan.isFirstDeploy,
      preflight,
      plan,
      prunedReleaseIds: [] as string[],
    };
    if (options.isDryRun) {
      const exitCode = preflight.ok ? ExitCode.OK : getPreflightExitCode(preflight);
      return {
        ...base,
        ok: preflight.ok,
        exitCode,
        isDryRun: true,
        timeline: [],
        message: `dry run: nothing was changed${preflight.ok ? '' : '; the deploy would be refused'}`,
      };
    }
    if (!preflight.ok || !source) throw createPreflightRefusal(environment.name, preflight);
    // Interrupted while validating (or during quick-deploy's backup): stop before the lock, the monitor or the journal
    // change.
    if (options.signal?.aborted) {
      const reason = (options.signal.reason as Error | undefined)?.message ?? 'aborted';
      throw createError('EINTERRUPTED', {
        env: environment.name,
        reason,
        serving: (await describeServingNow(environment, clock)).text,
      });
    }
    const lock = await acquireEnvironmentLock(environment, { purpose: `deploy of ${releaseId}`, clock, logger });
    try {
      // Issue 9: the previous deploy's monitor stops before anything changes, so it never judges or acts on this
      // release.
      const deployId = createDeployId(environment.name, clock.now());
      await supersedeMonitor(environment, { byDeployId: deployId, clock, logger });
      return await runDeploy(options, driver, source, base, deployId);
    } finally {
      await lock.release();
    }
  } finally {
    await source?.cleanup();
  }
}

function getPreflightExitCode(report: PreflightReport): 2 | 3 {
  return report.checks.some((c) => !c.ok && c.exitCode === 3) ? 3 : 2;
}

/**
 * One failed check with its own coded error (ENOSPACE, EGATEVIOLATEDNOW) is thrown as that; several as
 * EPREFLIGHTFAILED.
 */
export function createPreflightRefusal(envName: string, report: PreflightReport) {
  const failedChecks = report.checks.filter((c) => !c.ok);
  if (failedChecks.length === 1 && failedChecks[0].error) return failedChecks[0].error;
  const failed = failedChecks.map((c) => ({ name: c.name, detail: c.detail }));
  return createError('EPREFLIGHTFAILED', { env: envName, failed, exitCode: getPreflightExitCode(report) });
}

type Base = Pick<
  DeployResult,
  'releaseId' | 'previousReleaseId' | 'isFirstDeploy' | 'preflight' | 'plan' | 'prunedReleaseIds'
>;

async function runDeploy(
  options: DeployOptions,
  driver: TargetDriver,
  source: ReleaseSource,
  base: Base,
  deployId: string,
): Promise<DeployResult> {
  const { environment, clock, logger } = options;
  const steps = createStepRunner({
    environment,
    deployId,
    kind: 'deploy',
    clock,
    logger,
    onProgress: options.onProgress,
  });
  const previous = base.previousReleaseId;
  const notify = (event: 'start' | 'success' | 'failure', message?: string, releaseId = base.releaseId) =>
    options.notifier
      ?.send({ event, release: releaseId, deployId, message })
      .catch((error) => logger.warn('notification failed', { error }));
  let snapshot: PreMigrateSnapshot | undefined;
  let isSwitched = false;
  let releaseId = base.releaseId;
  const result = (
    ok: boolean,
    exitCode: ExitCodeValue,
    message: string,
    extra: Partial<DeployResult> = {},
  ): DeployResult => ({
    ...base,
    releaseId,
    ok,
    exitCode,
    message,
    isDryRun: false,
    deployId,
    timeline: steps.timeline,
    ...extra,
  });

  await steps.begin('deploy:start', `release ${base.releaseId}`, {
    releaseId: base.releaseId,
    previousReleaseId: previous,
    backupFile: options.backupFile,
  });
  await notify('start');
  let healthChecks: HealthWaitResult | undefined;
  let smoke: SmokeResult | undefined;
  // Forward progress stops at the first interrupt: no step starts after it (the one running is asked through the
  // signal).
  const forward = async <T>(name: string, fn: () => Promise<T>, describe?: (value: T) => string): Promise<T> => {
    if (options.signal?.aborted)
      throw new Error(
        `interrupted (${(options.signal.reason as Error | undefined)?.message ?? 'aborted'}) before ${name}`,
      );
    return steps.run(name, fn, describe);
  };
  try {
    const staged = await forward(
      'deploy:stage',
      () =>
        stageRelease(environment, source).catch((error) =>
          rethrowAsNoSpace(error, {
            folder: environment.releasesDir,
            what: `stage release ${base.releaseId}`,
            isNothingChanged: true,
          }),
        ),
      (s) => `${s.isReused ? 'reused' : 'staged'} releases/${s.releaseId}`,
    );
    releaseId = staged.releaseId;
    let appliedMigrations: AppliedMigrationFact[] = [];
    await forward('deploy:migrate', async () => {
      if (base.preflight.pendingMigrations === 0) return 'no pending migrations';
      // A switch-back must find the schema the previous release knows: keep a consistent copy until the deploy
      // succeeds.
      const location = getMigrationLocation(environment);
      if (previous !== undefined)
        snapshot = await takePreMigrateSnapshot(environment, deployId, options.processEnv ?? process.env);
      const report = await applyLocationMigrations(location);
      appliedMigrations = describeAppliedMigrations(report.applied);
      return `schema ${report.fromVersion} → ${report.toVersion} (${report.applied.length} applied)`;
    });
    if (options.signal?.aborted)
      throw new Error(
        `interrupted (${(options.signal.reason as Error | undefined)?.message ?? 'aborted'}) before deploy:symlink`,
      );
    await recordRollbackStrategy(steps, previous, appliedMigrations);
    isSwitched = true;
    await steps.run('deploy:symlink', async () => {
      await switchCurrentRelease(environment, releaseId);
      return `current → releases/${releaseId}`;
    });
    await steps.run(
      'deploy:restart',
      () => driver.restart(),
      (s) => s.detail,
    );
    healthChecks = await forward(
      'deploy:healthcheck',
      () => waitForHealth(options, driver, environment.config.deploy.healthyChecksRequired, options.signal),
      (h) => `${h.checks.length} check(s)`,
    );
    smoke = await forward(
      'deploy:smoke',
      async () => {
        const outcome = await runSmokeTests(environment, { clock });
        if (!outcome.ok)
          throw new Error(
            `smoke test failed: ${outcome.checks
              .filter((c) => !c.ok)
              .map((c) => `${c.name} (${c.detail})`)
              .join('; ')}`,
          );
        return outcome;
      },
      (s) => `${s.checks.length} checks passed, log ${s.logFile}`,
    );
  } catch (error) {
    const reason = (error as Error).message;
    if (!isSwitched) {
      await steps.record('deploy:finish', 'failed', reason, { releaseId });
      await notify('failure', reason);
      // A full disk while staging changed nothing that serves: a refusal (exit 3) with the folder and the space.
      if (isDhashError(error, 'ENOSPACE')) throw error;
      const serving = previous ? await describeServingNow(environment, clock) : undefined;
      const left = serving ? `${previous} is still serving (${serving.text})` : 'nothing was deployed';
      return result(false, ExitCode.FAILED, `deploy of ${releaseId} failed before the switch (${reason}); ${left}`, {
        healthChecks,
        smoke,
      });
    }
    const switchBack = await switchBackOrStop(options, driver, steps, { previous, snapshot });
    // The final word is what a probe sees now, not what the steps believe.
    const serving = await describeServingNow(environment, clock);
    const isPreviousServing = Boolean(previous) && switchBack.ok && serving.releaseId === previous && serving.isHealthy;
    await steps.record('deploy:finish', 'failed', `${reason}; ${switchBack.detail}; now ${serving.text}`, {
      releaseId,
    });
    await notify('failure', `${reason}; ${switchBack.detail}`);
    const exitCode = isPreviousServing ? ExitCode.FAILED : ExitCode.HUMAN_NEEDED;
    const outcome = isPreviousServing
      ? `${previous} is serving (${serving.text})`
      : `${switchBack.detail}; now ${serving.text}`;
    return result(false, exitCode, `deploy of ${releaseId} failed (${reason}); ${outcome}`, {
      healthChecks,
      smoke,
      switchBack,
    });
  }
  const pruned = await steps.run(
    'deploy:prune',
    () => pruneReleases(environment, { keep: environment.config.releases.keep, previous }),
    (ids) => (ids.length ? `removed ${ids.join(', ')}` : 'nothing to prune'),
  );
  await removePreMigrateSnapshot(snapshot);
  await steps.record('deploy:finish', 'succeeded', `release ${releaseId} is serving`, { releaseId });
  await notify('success', undefined, releaseId);
  return result(
    true,
    ExitCode.OK,
    `deployed ${releaseId} to ${environment.name}${previous ? ` (previous: ${previous})` : ' (first deploy)'}`,
    { healthChecks, smoke, prunedReleaseIds: pruned },
  );
}

/** N consecutive OK checks; a process that died stops the wait at once instead of at the timeout. */
async function waitForHealth(
  options: DeployOptions,
  driver: TargetDriver,
  consecutiveOk: number,
  signal: AbortSignal | undefined,
): Promise<HealthWaitResult> {
  return waitForServiceHealthy(options.environment, driver, { consecutiveOk, clock: options.clock, signal });
}

async function switchBackOrStop(
  options: DeployOptions,
  driver: TargetDriver,
  steps: ReturnType<typeof createStepRunner>,
  input: { previous?: string; snapshot?: PreMigrateSnapshot },
): Promise<{ ok: boolean; detail: string }> {
  const { environment } = options;
  if (!input.previous) {
    // The guard never stops the only release (issue 9): a half-working first release may still answer some users.
    const serving = await describeServingNow(environment, options.clock);
    const detail =
      'first deploy: there is no previous release to switch back to, so the new release was left as it is ' +
      `(the guard never stops the only release); ${serving.text}: a human must act`;
    await steps.record('deploy:switch-back', 'failed', detail);
    return { ok: false, detail };
  }
  const previous = input.previous;
  try {
    // Shielded from the interrupt that stopped the deploy: it runs to its verified end unless abandoned twice.
    const outcome = await runSafetyOperation({
      name: 'deploy:switch-back',
      clock: options.clock,
      signal: options.signal,
      onNotice: options.onProgress,
      describeLeftState: async () => (await describeServingNow(environment, options.clock)).text,
      run: (escape) =>
        steps.run('deploy:switch-back', async () => {
          // Abandoned (second interrupt): stop between actions, never in the middle of one.
          await driver.stop();
          escape.throwIfAborted();
          const databaseNote = input.snapshot
            ? ` (${await restorePreMigrateSnapshot(environment, input.snapshot, {
                clock: options.clock,
                processEnv: options.processEnv ?? process.env,
              })})`
            : '';
          escape.throwIfAborted();
          await switchCurrentRelease(environment, previous);
          escape.throwIfAborted();
          await driver.start();
          escape.throwIfAborted();
          await waitForHealth(options, driver, environment.config.deploy.healthyChecksRequired, escape);
          return `switched back to ${previous}${databaseNote}; it is healthy`;
        }),
    });
    if (outcome.isAbandoned) {
      const abandoned = createError('ESAFETYABANDONED', { step: 'deploy:switch-back', leftState: outcome.leftState });
      await steps.record('deploy:switch-back', 'failed', `${abandoned.message} ${outcome.leftState}`);
      return {
        ok: false,
        detail:
          `switching back to ${previous} was ABANDONED by a second interrupt; ` +
          `state left: ${outcome.leftState}: a human must act`,
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
