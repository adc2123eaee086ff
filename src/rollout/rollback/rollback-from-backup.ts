// Rollbacks: manual from a backup (restore, optionally carrying forward), and a deploy's own by its strategy.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { createDeployId } from '../core/release-naming.js';
import {
  formatRollbackStrategy,
  type RollbackStrategy,
  type RollbackStrategyChoice,
} from '../core/rollback-strategy.js';
import type { Logger } from '../../lib/logger.js';
import type { Notifier } from '../notify/index.js';
import { createBackupRefusal, verifyBackup } from '../backup/index.js';
import { acquireEnvironmentLock } from '../state/lock.js';
import { supersedeMonitor } from '../monitor/supersede-monitor.js';
import { createStepRunner, type TimelineEntry } from '../deploy/step-runner.js';
import { checkServicePort } from '../deploy/port-check.js';
import type { HealthWaitResult } from '../checks/health.js';
import type { SmokeResult } from '../checks/smoke.js';
import { createTargetDriver, type TargetDriver } from '../target/index.js';
import { findReleaseByContentSha256, getCurrentReleaseId } from '../release/release-dirs.js';
import { getTempSibling } from '../../lib/atomic-file.js';
import { verifyRollbackBackup, type VerifiedBackup } from './rollback-verify.js';
import { ROLLBACK_HEALTHY_CHECKS, type RollbackContext } from './rollback-checks.js';
import { assertBackupEngine, runRestore, type RestoreOutcome } from './rollback-restore.js';
import {
  runDownMigrate,
  runSwitchBack,
  verifyPreviousRelease,
  type KeptDatabaseOutcome,
} from './rollback-switch-back.js';
import type { CarryForwardReport } from './carry-forward.js';

export { ROLLBACK_HEALTHY_CHECKS };

export interface RollbackOptions {
  environment: ResolvedEnvironment;
  backupFile: string;
  /** Skips only the interactive confirmation; every check still runs. */
  force: boolean;
  isDryRun: boolean;
  clock: Clock;
  logger: Logger;
  notifier?: Notifier;
  /** Asks the operator; undefined when there is no terminal (then only --force may proceed). */
  confirm?: (question: string) => Promise<boolean>;
  processEnv?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  driver?: TargetDriver;
  /** Who asked, for the lock and the journal (`manual`, `monitor`). */
  reason?: string;
  /** After restoring, re-apply the library and review changes made since the backup (`--carry-forward`). */
  isCarryForward?: boolean;
}

export interface RollbackResult {
  ok: boolean;
  isDryRun: boolean;
  deployId?: string;
  strategy: RollbackStrategy;
  strategyReason: string;
  backupFile: string;
  preRollbackBackup?: string;
  /** PostgreSQL restore: the live database as it was at the rollback, kept under this name. */
  preRollbackDatabase?: string;
  previousReleaseId?: string;
  restoredReleaseId: string;
  isReleaseReused: boolean;
  timeline: TimelineEntry[];
  healthChecks?: HealthWaitResult;
  smoke?: SmokeResult;
  carryForward?: CarryForwardReport;
  /** false when it failed before changing anything (the bad release still serves, untouched). */
  isTouched: boolean;
  message: string;
}

/**
 * Manual: restore the backup's state. Refusals (bad backup, wrong env, no confirmation, lock held) throw before
 * anything changes.
 */
export async function rollbackFromBackup(options: RollbackOptions): Promise<RollbackResult> {
  const { environment, clock, logger } = options;
  const progress = options.onProgress ?? (() => {});
  const file = resolve(environment.paths.root, options.backupFile);
  // A dry run reads every entry (nothing else will); a real run verifies once here and checks the entries it extracts.
  const verified = options.isDryRun
    ? await verifyBackup(file, { expectedEnv: environment.name, projectRoot: environment.paths.root })
    : await verifyRollbackBackup(file, environment);
  if (!verified.ok || !verified.manifest) throw createBackupRefusal(file, verified, environment.paths.root);
  const manifest = verified.manifest;
  assertBackupEngine(environment, file, manifest);
  const currentReleaseId = await getCurrentReleaseId(environment);
  const reusable = manifest.releaseContentSha256
    ? await findReleaseByContentSha256(environment, manifest.releaseContentSha256)
    : undefined;
  const restoredReleaseId = manifest.releaseId ?? '(none)';
  const isCarryForward = Boolean(options.isCarryForward);
  const isPostgresBackup = manifest.engine === 'postgres' && manifest.database !== null;
  const checkedScope = options.isDryRun
    ? 'sha256 and every entry'
    : 'sha256 and manifest; entries are checked as they are extracted';
  const releaseSource = reusable ? ' (reusing the identical on-disk release)' : ' (restored from the backup)';
  progress(
    [
      `Backup ${file} verified (${checkedScope}; env ${manifest.env}, ` +
        `taken ${manifest.createdAt}, schema ${manifest.schemaVersion ?? 'none'}).`,
      `Plan (strategy restore${isCarryForward ? ' with carry-forward' : ''}): ` +
        `current ${currentReleaseId ?? '(nothing deployed)'} → ${restoredReleaseId}${releaseSource}`,
      '  1. rollback:snapshot  back up the current state first (data written since the backup is kept there)',
      ...(isPostgresBackup
        ? [
            '     rollback:restore-database  pg_restore into a fresh database and check it against the manifest ' +
              '(the live one keeps serving)',
          ]
        : []),
      '  2. rollback:stop      stop the service',
      `  3. rollback:restore   release, database${manifest.database ? '' : ' (none in the backup)'}` +
        ' and shared/service.json' +
        (isPostgresBackup ? '; the live database is renamed aside (kept) and the restored one renamed in' : ''),
      isCarryForward
        ? '  4. rollback:carry-forward re-apply the library and review changes logged ' +
          `after seq ${manifest.changeLogSeq ?? '(read from the backup)'}`
        : "  4. (no carry-forward: the data is the backup's; pass --carry-forward to keep what users wrote since)",
      '  5. rollback:start-service  start the service from the restored release',
      `  6. rollback:healthcheck wait for ${ROLLBACK_HEALTHY_CHECKS} consecutive OK health checks, then rollback:smoke`,
    ].join('\n'),
  );
  const strategyReason = `manual rollback to the backup ${file}`;
  const base = {
    backupFile: file,
    restoredReleaseId,
    previousReleaseId: currentReleaseId,
    isReleaseReused: Boolean(reusable),
    strategy: 'restore' as const,
    strategyReason,
  };
  if (options.isDryRun)
    return {
      ...base,
      ok: true,
      isDryRun: true,
      timeline: [],
      isTouched: false,
      message: 'dry run: the backup is valid; nothing was changed',
    };
  const ctx = createContext(options);
  // A foreign process on the service's address would make the restored release exit after its data was replaced,
  // and answer its health checks: refuse while nothing has changed, before asking.
  const port = await checkServicePort(environment, ctx.driver);
  if (!port.ok && port.error) throw port.error;
  if (!options.force) {
    if (!options.confirm) throw createError('ENOCONFIRMATION', { action: 'roll back', env: environment.name });
    if (
      !(await options.confirm(
        `Roll ${environment.name} back to ${restoredReleaseId} and the data of ${manifest.createdAt}? Type yes: `,
      ))
    ) {
      throw createError('EDECLINED', { action: 'rollback', env: environment.name });
    }
  }
  const lock = await acquireEnvironmentLock(environment, {
    purpose: `rollback to ${restoredReleaseId} from ${file}`,
    clock,
    logger,
  });
  const extractDir = getTempSibling(join(environment.root, 'rollback-extract'));
  try {
    // Issue 9: the monitor of the deploy being rolled back stops first (its own auto-rollback, rollBackDeploy, is left
    // alone).
    await supersedeMonitor(environment, { byDeployId: ctx.deployId, clock, logger });
    await ctx.steps.record('rollback:begin', 'started', `restore from ${file}`, {
      backupFile: file,
      previousReleaseId: currentReleaseId,
      releaseId: restoredReleaseId,
      strategy: 'restore',
    });
    await ctx.notify('rollback-start', restoredReleaseId, `restoring ${file}`);
    await ctx.steps.record('rollback:verify', 'succeeded', 'sha256, manifest and environment checked');
    const outcome = await runRestore(ctx, {
      file,
      manifest,
      extractDir,
      reusableId: reusable?.releaseId,
      restoredReleaseId,
      isCarryForward,
    });
    // Before the target was touched a refusal stays a refusal (exit 3, nothing changed).
    if (!outcome.ok && !outcome.isTouched && isDhashError(outcome.error)) {
      await ctx.steps.record('rollback:finish', 'failed', outcome.reason, { releaseId: restoredReleaseId });
      throw outcome.error;
    }
    return await finishRollback(ctx, base, outcome);
  } finally {
    await rm(extractDir, { recursive: true, force: true });
    await lock.release();
  }
}

export interface DeployRollbackOptions {
  environment: ResolvedEnvironment;
  /** The chosen strategy (chooseRollbackStrategy); `none` is the caller's to handle. */
  choice: RollbackStrategyChoice & { strategy: RollbackStrategy };
  previousReleaseId: string;
  /** The versions the deploy applied, reverted by down-migrate. */
  appliedVersions: readonly number[];
  /** The previous release's content hash, when the caller started it early (in parallel with the backup's sha256). */
  previousReleaseContentSha256?: Promise<string>;
  /** The backup, verified once by the caller; the restore fallback uses this result as it is. */
  verified: VerifiedBackup & { manifest: NonNullable<VerifiedBackup['manifest']> };
  clock: Clock;
  logger: Logger;
  processEnv?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  driver?: TargetDriver;
}

/**
 * The auto-rollback of a deploy: switch-back or down-migrate when the strategy allows, restore with carry-forward
 * otherwise or when those fail.
 */
export async function rollBackDeploy(options: DeployRollbackOptions): Promise<RollbackResult> {
  const { environment, clock, logger, verified } = options;
  const file = verified.file;
  const manifest = verified.manifest;
  const currentReleaseId = await getCurrentReleaseId(environment);
  const lock = await acquireEnvironmentLock(environment, {
    purpose: `${options.choice.strategy} rollback to ${options.previousReleaseId}`,
    clock,
    logger,
  });
  const extractDir = getTempSibling(join(environment.root, 'rollback-extract'));
  const ctx = createContext({ ...options, backupFile: file });
  let strategy: RollbackStrategy = options.choice.strategy;
  let strategyReason = options.choice.reason;
  const base = () => ({ backupFile: file, previousReleaseId: currentReleaseId, strategy, strategyReason });
  try {
    await ctx.steps.record('rollback:begin', 'started', `strategy ${formatRollbackStrategy(options.choice)}`, {
      backupFile: file,
      previousReleaseId: currentReleaseId,
      releaseId: options.previousReleaseId,
      strategy,
    });
    await ctx.steps.record('rollback:verify', 'succeeded', 'backup sha256, manifest and environment checked once');
    if (strategy !== 'restore') {
      const kept = await runKeepingDatabase(ctx, options);
      if (kept.ok)
        return await finishRollback(
          ctx,
          { ...base(), restoredReleaseId: options.previousReleaseId, isReleaseReused: true },
          { ...kept, restoredReleaseId: options.previousReleaseId, ok: true },
        );
      await ctx.steps.record(`rollback:${strategy}`, 'failed', `${kept.reason}; falling back to restore`);
      strategyReason = `${strategy} failed (${kept.reason}); restored instead`;
      strategy = 'restore';
    }
    const reusable = manifest.releaseContentSha256
      ? await findReleaseByContentSha256(environment, manifest.releaseContentSha256)
      : undefined;
    const restoredReleaseId = manifest.releaseId ?? options.previousReleaseId;
    const outcome = await runRestore(ctx, {
      file,
      manifest,
      extractDir,
      reusableId: reusable?.releaseId,
      restoredReleaseId,
      isCarryForward: true,
    });
    return await finishRollback(
      ctx,
      { ...base(), restoredReleaseId, isReleaseReused: Boolean(reusable) },
      { ...outcome, isTouched: true },
    );
  } finally {
    await rm(extractDir, { recursive: true, force: true });
    await lock.release();
  }
}

async function runKeepingDatabase(ctx: RollbackContext, options: DeployRollbackOptions): Promise<KeptDatabaseOutcome> {
  try {
    await verifyPreviousRelease(
      ctx,
      options.previousReleaseId,
      options.verified.manifest.releaseContentSha256,
      options.previousReleaseContentSha256,
    );
  } catch (error) {
    return { ok: false, reason: (error as Error).message, isTouched: false };
  }
  return options.choice.strategy === 'down-migrate'
    ? runDownMigrate(ctx, options.previousReleaseId, options.appliedVersions)
    : runSwitchBack(ctx, options.previousReleaseId);
}

type Context = RollbackContext & {
  deployId: string;
  notify: (
    event: 'rollback-start' | 'rollback-success' | 'rollback-failure',
    release: string,
    message?: string,
  ) => Promise<unknown>;
};

function createContext(
  options: Omit<RollbackOptions, 'force' | 'isDryRun' | 'backupFile'> & { backupFile?: string },
): Context {
  const { environment, clock, logger } = options;
  const deployId = createDeployId(environment.name, clock.now());
  return {
    environment,
    clock,
    logger,
    signal: options.signal,
    processEnv: options.processEnv,
    deployId,
    driver:
      options.driver ??
      createTargetDriver(environment, { clock, logger: logger.child('target'), processEnv: options.processEnv }),
    steps: createStepRunner({ environment, deployId, kind: 'rollback', clock, logger, onProgress: options.onProgress }),
    notify: async (event, release, message) =>
      options.notifier
        ?.send({ event, release, deployId, message })
        .catch((error: unknown) => logger.warn('notification failed', { error })),
  };
}

async function finishRollback(
  ctx: Context,
  base: Pick<
    RollbackResult,
    'backupFile' | 'previousReleaseId' | 'strategy' | 'strategyReason' | 'restoredReleaseId' | 'isReleaseReused'
  >,
  outcome: Partial<RestoreOutcome> & { ok: boolean; isTouched: boolean; reason?: string },
): Promise<RollbackResult> {
  const restoredReleaseId = outcome.restoredReleaseId ?? base.restoredReleaseId;
  const shown = {
    ...base,
    restoredReleaseId,
    isDryRun: false,
    deployId: ctx.deployId,
    timeline: ctx.steps.timeline,
    isTouched: outcome.isTouched,
    ...(outcome.preRollbackBackup ? { preRollbackBackup: outcome.preRollbackBackup } : {}),
    ...(outcome.preRollbackDatabase ? { preRollbackDatabase: outcome.preRollbackDatabase } : {}),
    ...(outcome.healthChecks ? { healthChecks: outcome.healthChecks } : {}),
    ...(outcome.smoke ? { smoke: outcome.smoke } : {}),
    ...(outcome.carryForward ? { carryForward: outcome.carryForward } : {}),
  };
  if (!outcome.ok) {
    await ctx.steps.record('rollback:finish', 'failed', outcome.reason, { releaseId: restoredReleaseId });
    await ctx.notify('rollback-failure', restoredReleaseId, outcome.reason);
    const failedAt = ctx.steps.timeline.find((t) => t.status === 'failed')?.step ?? 'an unknown step';
    return {
      ...shown,
      ok: false,
      message:
        `rollback of ${ctx.environment.name} (${base.strategy}) FAILED at ${failedAt}: ` +
        `${outcome.reason}. A human must act.` +
        (outcome.preRollbackDatabase
          ? ` The database before the rollback is kept as ${outcome.preRollbackDatabase}.`
          : ''),
    };
  }
  const cf = outcome.carryForward;
  await ctx.steps.record('rollback:finish', 'succeeded', `release ${restoredReleaseId} is serving (${base.strategy})`, {
    releaseId: restoredReleaseId,
    preRollbackBackup: outcome.preRollbackBackup,
    strategy: base.strategy,
  });
  await ctx.notify('rollback-success', restoredReleaseId, `${restoredReleaseId} is serving`);
  const notCarriedNote = cf?.notCarried.length ? `, ${cf.notCarried.length} NOT carried (kept in the snapshot)` : '';
  const carriedNote = cf ? ` plus ${cf.carried.length} change(s) carried forward${notCarriedNote}` : '';
  const data =
    base.strategy === 'restore'
      ? `with the data of the backup${carriedNote}`
      : `keeping the live database (${base.strategy})`;
  const stateNote =
    (outcome.preRollbackBackup ? `; the state before the rollback is in ${outcome.preRollbackBackup}` : '') +
    (outcome.preRollbackDatabase ? `; the database before the rollback is kept as ${outcome.preRollbackDatabase}` : '');
  return {
    ...shown,
    ok: true,
    message: `rolled ${ctx.environment.name} back to ${restoredReleaseId} ${data}${stateNote}`,
  };
}
