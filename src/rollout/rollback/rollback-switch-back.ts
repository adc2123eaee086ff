// The rollbacks that keep the live database: switch-back (no migration applied) and down-migrate (reviewed downs).
import { join } from 'node:path';
import { createError } from '../../lib/errors.js';
import { computeContentSha256 } from '../release/content-hash.js';
import { readReleaseManifest } from '../release/release-manifest.js';
import { switchCurrentRelease } from '../release/release-dirs.js';
import {
  MIGRATIONS,
  rehearseRevertOnCopy,
  revertMigrationsOnFile,
  type Migration,
  type RevertReport,
} from '../../service/store/index.js';
import { rehearsePostgresRevert, revertPostgresMigrations } from '../../service/store/postgres/index.js';
import { getPostgresTarget, withPostgresClient } from '../backup/postgres-connection.js';
import type { HealthWaitResult } from '../checks/health.js';
import type { SmokeResult } from '../checks/smoke.js';
import { runRollbackSmoke, waitForRollbackHealth, type RollbackContext } from './rollback-checks.js';

export interface KeptDatabaseOutcome {
  ok: boolean;
  healthChecks?: HealthWaitResult;
  smoke?: SmokeResult;
  /** Why it failed; a failure after the switch falls to restore. */
  reason?: string;
  /**
   * Whether `current` or the database was changed (a failure before that leaves the bad release serving, untouched).
   */
  isTouched: boolean;
}

/**
 * `rollback:verify-release`: the previous release's files hash to the contentSha256 its release.json records (and the
 * backup's, when it names one), so the switch goes back to exactly the release that served before. Hashes the release
 * folder only (sources and node_modules), never the database.
 */
export async function verifyPreviousRelease(
  ctx: RollbackContext,
  releaseId: string,
  backupContentSha256: string | null,
  precomputed?: Promise<string>,
): Promise<void> {
  const dir = join(ctx.environment.releasesDir, releaseId);
  await ctx.steps.run('rollback:verify-release', async () => {
    const manifest = await readReleaseManifest(dir);
    // The monitor starts this hash while the backup's sha256 is read (both before anything changes): precomputed.
    const actual = await (precomputed ?? computeContentSha256(dir));
    if (actual !== manifest.contentSha256)
      throw createError('ERELEASECHANGED', { releaseId, dir, expected: manifest.contentSha256, actual });
    const isBackupsRelease = backupContentSha256 === actual;
    const backupNote = isBackupsRelease ? ' and the backup' : '';
    return `releases/${releaseId} content sha256 ${actual.slice(0, 12)}… matches release.json${backupNote}`;
  });
}

/** Switch `current` back, restart, 3 OK health checks, smoke. The database is not touched. */
export async function runSwitchBack(ctx: RollbackContext, previousReleaseId: string): Promise<KeptDatabaseOutcome> {
  let isTouched = false;
  let healthChecks: HealthWaitResult | undefined;
  try {
    isTouched = true;
    await ctx.steps.run('rollback:switch', async () => {
      await switchCurrentRelease(ctx.environment, previousReleaseId);
      return `current → releases/${previousReleaseId} (database kept)`;
    });
    await ctx.steps.run(
      'rollback:restart',
      () => ctx.driver.restart(),
      (s) => s.detail,
    );
    healthChecks = await waitForRollbackHealth(ctx);
    const smoke = await runRollbackSmoke(ctx);
    return { ok: true, healthChecks, smoke, isTouched };
  } catch (error) {
    const e = error as Error & { health?: HealthWaitResult; smoke?: SmokeResult };
    return { ok: false, healthChecks: healthChecks ?? e.health, smoke: e.smoke, reason: e.message, isTouched };
  }
}

/**
 * Reverts the deploy's migrations with their reviewed downs: rehearsed first (SQLite: on an online-backup copy;
 * PostgreSQL: on the live database in a transaction that is rolled back, DDL included), so a failing or edited down
 * stops here with the live database untouched; then the service is stopped and the live database reverted in one
 * transaction, then the switch-back. Returns ok=false with the reason when any part fails.
 */
export async function runDownMigrate(
  ctx: RollbackContext,
  previousReleaseId: string,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<KeptDatabaseOutcome> {
  const file = ctx.environment.databaseFile;
  const isPostgres = ctx.environment.database.engine === 'postgres';
  const revert = (shouldCommit: boolean): Promise<RevertReport> =>
    isPostgres
      ? withPostgresClient(getPostgresTarget(ctx.environment), (client) =>
          (shouldCommit ? revertPostgresMigrations : rehearsePostgresRevert)(client, versions, migrations),
        )
      : shouldCommit
        ? Promise.resolve().then(() => revertMigrationsOnFile(file, versions, migrations))
        : rehearseRevertOnCopy(file, versions, migrations);
  try {
    await ctx.steps.run('rollback:down-rehearse', async () => {
      const report = await revert(false);
      const reverted = report.reverted.map((m) => m.version).join(', ');
      const where = isPostgres ? 'in a rolled-back transaction' : 'on a copy';
      return `${where}: schema ${report.fromVersion} → ${report.toVersion} (${reverted} reverted)`;
    });
  } catch (error) {
    return {
      ok: false,
      reason:
        `the downs failed ${isPostgres ? 'in a rehearsal' : 'on a copy'} ` +
        `(the live database is untouched): ${(error as Error).message}`,
      isTouched: false,
    };
  }
  try {
    await ctx.steps.run(
      'rollback:stop',
      () => ctx.driver.stop(),
      () => 'service stopped',
    );
    await ctx.steps.run('rollback:down-migrate', async () => {
      const report = await revert(true);
      return `live database: schema ${report.fromVersion} → ${report.toVersion} in one transaction`;
    });
  } catch (error) {
    return {
      ok: false,
      reason: `the downs failed on the live database (rolled back, unchanged): ${(error as Error).message}`,
      isTouched: true,
    };
  }
  return runSwitchBack(ctx, previousReleaseId);
}
