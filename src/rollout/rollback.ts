// Manual rollback from a backup: verify → confirm → snapshot → lock → stop → restore release, database, config → start → verify.
import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ResolvedEnvironment } from './config/environments.js';
import type { Clock } from './core/clock.js';
import { createError, isDhashError } from './core/errors.js';
import { createDeployId } from './core/release-naming.js';
import type { Logger } from '../lib/logger.js';
import type { Notifier } from './notify/index.js';
import { createBackup, createBackupRefusal, extractBackup, verifyBackup, type ExtractedBackup } from './backup/index.js';
import { acquireEnvironmentLock } from './lock.js';
import { supersedeMonitor } from './monitor/supersede-monitor.js';
import { createStepRunner, type TimelineEntry } from './deploy-steps.js';
import { waitForHealthy, type HealthWaitResult } from './health.js';
import { runSmokeTests, type SmokeResult } from './smoke.js';
import { createTargetDriver, type TargetDriver } from './target/index.js';
import { findReleaseByContentSha256, getCurrentReleaseId, stageRelease, switchCurrentRelease } from './release/release-dirs.js';
import { readReleaseManifest } from './release/release-manifest.js';
import { replaceDatabaseFile } from './release/database-file.js';
import { getTempSibling } from '../lib/atomic-file.js';
import { extractBackupData } from './rollback-extract.js';
import type { BackupManifest } from './core/backup-manifest.js';

/** The contract fixes three consecutive OK checks after a rollback, whatever the deploy setting. */
export const ROLLBACK_HEALTHY_CHECKS = 3;

export interface RollbackOptions {
  env: ResolvedEnvironment;
  backupFile: string;
  /** Skips only the interactive confirmation; every check still runs. */
  force: boolean;
  dryRun: boolean;
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
}

export interface RollbackResult {
  ok: boolean;
  isDryRun: boolean;
  deployId?: string;
  backupFile: string;
  preRollbackBackup?: string;
  previousReleaseId?: string;
  restoredReleaseId: string;
  isReleaseReused: boolean;
  timeline: TimelineEntry[];
  healthChecks?: HealthWaitResult;
  smoke?: SmokeResult;
  message: string;
}

/** Refusals (bad backup, wrong env, no confirmation, lock held) throw before anything changes; later failures return ok=false. */
export async function rollbackFromBackup(options: RollbackOptions): Promise<RollbackResult> {
  const { env, clock, logger } = options;
  const progress = options.onProgress ?? (() => {});
  const file = resolve(env.paths.root, options.backupFile);
  const verified = await verifyBackup(file, { expectedEnv: env.name, projectRoot: env.paths.root });
  if (!verified.ok || !verified.manifest) throw createBackupRefusal(file, verified, env.paths.root);
  const manifest = verified.manifest;
  const currentReleaseId = await getCurrentReleaseId(env);
  const reusable = manifest.releaseContentSha256 ? await findReleaseByContentSha256(env, manifest.releaseContentSha256) : undefined;
  const restoredReleaseId = manifest.releaseId ?? '(none)';
  progress(
    [
      `Backup ${file} verified (sha256 and every entry; env ${manifest.env}, taken ${manifest.createdAt}, schema ${manifest.schemaVersion ?? 'none'}).`,
      `Plan: current ${currentReleaseId ?? '(nothing deployed)'} → ${restoredReleaseId}${reusable ? ' (reusing the identical on-disk release)' : ' (restored from the backup)'}`,
      '  1. rollback:snapshot  back up the current state first (data written since the backup is kept there)',
      '  2. rollback:stop      stop the service',
      `  3. rollback:restore   release, database${manifest.database ? '' : ' (none in the backup)'} and shared/service.json`,
      '  4. rollback:start     start the service from the restored release',
      `  5. rollback:healthcheck wait for ${ROLLBACK_HEALTHY_CHECKS} consecutive OK health checks, then rollback:smoke`,
    ].join('\n'),
  );
  const base = { backupFile: file, restoredReleaseId, previousReleaseId: currentReleaseId, isReleaseReused: Boolean(reusable) };
  if (options.dryRun) return { ...base, ok: true, isDryRun: true, timeline: [], message: 'dry run: the backup is valid; nothing was changed' };
  if (!options.force) {
    if (!options.confirm) throw createError('ENOCONFIRMATION', { action: 'roll back', env: env.name });
    if (!(await options.confirm(`Roll ${env.name} back to ${restoredReleaseId} and the data of ${manifest.createdAt}? Type yes: `))) {
      throw createError('EDECLINED', { action: 'rollback', env: env.name });
    }
  }
  const lock = await acquireEnvironmentLock(env, { purpose: `rollback to ${restoredReleaseId} from ${file}`, clock, logger });
  const extractDir = getTempSibling(join(env.root, 'rollback-extract'));
  try {
    // Issue 9: the monitor of the deploy being rolled back stops first (its own auto-rollback is left alone).
    const deployId = createDeployId(env.name, clock.now());
    await supersedeMonitor(env, { byDeployId: deployId, clock, logger });
    return await runRollback(options, { ...base, file, extractDir, reusableId: reusable?.releaseId, manifest }, deployId);
  } finally {
    await rm(extractDir, { recursive: true, force: true });
    await lock.release();
  }
}

async function runRollback(
  options: RollbackOptions,
  input: Omit<RollbackResult, 'ok' | 'isDryRun' | 'timeline' | 'message'> & { file: string; extractDir: string; reusableId?: string; manifest?: BackupManifest },
): Promise<RollbackResult> {
  deployId: string,
  const { env, clock, logger } = options;
  const driver = options.driver ?? createTargetDriver(env, { clock, logger: logger.child('target'), env: options.processEnv });
  const steps = createStepRunner({ env, deployId, kind: 'rollback', clock, logger, onProgress: options.onProgress });
  const notify = (event: 'rollback-start' | 'rollback-success' | 'rollback-failure', message?: string) =>
    options.notifier?.send({ event, release: input.restoredReleaseId, deployId, message }).catch((error) => logger.warn('notification failed', { error }));
  let preRollbackBackup: string | undefined;
  let restoredReleaseId = input.restoredReleaseId;
  let healthChecks: HealthWaitResult | undefined;
  let smoke: SmokeResult | undefined;
  let isTouched = false;
  const { file: _file, extractDir: _extractDir, reusableId: _reusableId, manifest: _manifest, ...shown } = input;
  const done = (ok: boolean, message: string): RollbackResult => ({
    ...shown, restoredReleaseId, ok, isDryRun: false, deployId, preRollbackBackup, timeline: steps.timeline, healthChecks, smoke, message,
  });

  await steps.record('rollback:start', 'started', `from ${input.file}`, { backupFile: input.file, previousReleaseId: input.previousReleaseId, releaseId: restoredReleaseId });
  await notify('rollback-start', `restoring ${input.file}`);
  try {
    await steps.record('rollback:verify', 'succeeded', 'sha256, manifest, every entry and the environment checked');
    preRollbackBackup = await steps.run('rollback:snapshot', async () => {
      try {
        const created = await createBackup(env, { clock, logger: logger.child('backup'), reason: 'pre-rollback' });
        return created.file;
      } catch (error) {
        if (isDhashError(error, 'ENOTHINGTOBACKUP')) return undefined;
        throw error;
      }
    }, (f) => (f ? `current state saved to ${f}` : 'nothing deployed: nothing to snapshot'));
    const extracted: ExtractedBackup = await steps.run(
      'rollback:extract',
      () => (input.reusableId && input.manifest ? extractBackupData(input.file, input.extractDir, input.manifest) : extractBackup(input.file, input.extractDir, { expectedEnv: env.name, projectRoot: env.paths.root })),
      (x) => `${x.releaseDir ? 'release, database and config' : 'database and config (release reused from disk)'} extracted and re-verified`,
    );
    isTouched = true;
    await steps.run('rollback:stop', () => driver.stop(), () => 'service stopped');
    await steps.run('rollback:restore', async () => {
      const parts: string[] = [];
      if (input.reusableId) {
        restoredReleaseId = input.reusableId;
        parts.push(`reused releases/${restoredReleaseId}`);
      } else if (extracted.releaseDir) {
        const manifest = await readReleaseManifest(extracted.releaseDir);
        const staged = await stageRelease(env, { dir: extracted.releaseDir, manifest, isSourceDisposable: true });
        restoredReleaseId = staged.releaseId;
        parts.push(`release restored into releases/${restoredReleaseId}`);
      } else {
        throw new Error('the backup holds no release and no identical release is on disk');
      }
      if (extracted.databaseFile) {
        await replaceDatabaseFile(extracted.databaseFile, env.databaseFile);
        parts.push('database replaced');
      }
      const serviceJson = join(extracted.configDir, 'service.json');
      if (existsSync(serviceJson)) {
        const temp = getTempSibling(join(env.sharedDir, 'service.json'));
        await copyFile(serviceJson, temp);
        await rename(temp, join(env.sharedDir, 'service.json'));
        parts.push('shared/service.json restored');
      }
      await switchCurrentRelease(env, restoredReleaseId);
      parts.push(`current → releases/${restoredReleaseId}`);
      return parts.join('; ');
    });
    await steps.run('rollback:start', () => driver.start(), (s) => s.detail);
    healthChecks = await steps.run('rollback:healthcheck', async () => {
      const health = await waitForHealthy(env.healthUrl, {
        consecutiveOk: ROLLBACK_HEALTHY_CHECKS,
        intervalMs: env.config.deploy.healthCheckIntervalMs,
        timeoutMs: env.config.deploy.healthTimeoutMs,
        clock,
        signal: options.signal,
        getAbortReason: async () => (driver.type === 'process' && !(await driver.status()).isRunning ? 'the service process exited (see logs/service.log)' : undefined),
      });
      if (!health.ok) throw new Error(`health check failed: ${health.reason}`);
      return health;
    }, (h) => `${ROLLBACK_HEALTHY_CHECKS} consecutive OK checks (${h.checks.length} in all)`);
    smoke = await steps.run('rollback:smoke', async () => {
      const result = await runSmokeTests(env, { clock });
      if (!result.ok) throw new Error(`smoke test failed: ${result.checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.detail})`).join('; ')}`);
      return result;
    }, (s) => `${s.checks.length} checks passed`);
  } catch (error) {
    const reason = (error as Error).message;
    await steps.record('rollback:finish', 'failed', reason, { releaseId: restoredReleaseId });
    await notify('rollback-failure', reason);
    // Before the target was touched a refusal stays a refusal (exit 3, nothing changed).
    if (!isTouched && isDhashError(error)) throw error;
    return done(false, `rollback of ${env.name} FAILED at ${steps.timeline.filter((t) => t.status === 'failed')[0]?.step ?? 'an unknown step'}: ${reason}. A human must act.`);
  }
  await steps.record('rollback:finish', 'succeeded', `release ${restoredReleaseId} is serving`, { releaseId: restoredReleaseId, preRollbackBackup });
  await notify('rollback-success', `${restoredReleaseId} is serving`);
  return done(true, `rolled ${env.name} back to ${restoredReleaseId} with the data of the backup${preRollbackBackup ? `; the state before the rollback is in ${preRollbackBackup}` : ''}`);
}
