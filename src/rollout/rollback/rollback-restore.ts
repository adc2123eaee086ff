// The restore strategy: pre-rollback snapshot, stop, restore release/database/config, carry forward, start, verify.
// PostgreSQL: the dump is restored into a fresh database before the stop, and switched in by rename.
import { existsSync } from 'node:fs';
import { copyFile, rename } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createError, isDhashError } from '../../lib/errors.js';
import type { BackupManifest } from '../core/backup-manifest.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createBackup, extractBackup, type ExtractedBackup } from '../backup/index.js';
import { stageRelease, switchCurrentRelease } from '../release/release-dirs.js';
import { readReleaseManifest } from '../release/release-manifest.js';
import { replaceDatabaseFile } from '../release/database-file.js';
import { getTempSibling } from '../../lib/atomic-file.js';
import { openPostgresStore } from '../../service/store/postgres/index.js';
import { extractBackupData } from '../backup/extract-backup-data.js';
import { applyCarryForward, getBackupMark, readChangesToCarry, type CarryForwardReport } from './carry-forward.js';
import type { HealthWaitResult } from '../checks/health.js';
import type { SmokeResult } from '../checks/smoke.js';
import { runRollbackSmoke, waitForRollbackHealth, type RollbackContext } from './rollback-checks.js';
import {
  carryForwardPostgres,
  discardPostgresRestore,
  readPostgresChanges,
  restorePostgresBeforeStop,
  switchPostgresDatabases,
  type OpenPostgresStore,
  type PostgresRestoreState,
} from './rollback-restore-postgres.js';

export interface RestoreInput {
  file: string;
  manifest: BackupManifest;
  extractDir: string;
  /** An on-disk release with the backup's content: only the database and config are extracted. */
  reusableId?: string;
  restoredReleaseId: string;
  /** Re-apply the library and review changes made since the backup (auto-rollback; `rollback --carry-forward`). */
  isCarryForward: boolean;
  /** PostgreSQL carry-forward: the service's store on the restored database. */
  openPostgresStore?: OpenPostgresStore;
}

export interface RestoreOutcome {
  ok: boolean;
  restoredReleaseId: string;
  preRollbackBackup?: string;
  /** PostgreSQL: the live database as it was at the rollback, renamed aside and kept. */
  preRollbackDatabase?: string;
  healthChecks?: HealthWaitResult;
  smoke?: SmokeResult;
  carryForward?: CarryForwardReport;
  reason?: string;
  error?: unknown;
  /** Whether the service or its files were changed (a failure before that changed nothing). */
  isTouched: boolean;
}

export async function runRestore(ctx: RollbackContext, input: RestoreInput): Promise<RestoreOutcome> {
  const { environment, clock, logger, driver, steps } = ctx;
  const out: RestoreOutcome = { ok: false, restoredReleaseId: input.restoredReleaseId, isTouched: false };
  let postgres: PostgresRestoreState | undefined;
  try {
    assertBackupEngine(ctx.environment, input.file, input.manifest);
    out.preRollbackBackup = await steps.run(
      'rollback:snapshot',
      async () => {
        try {
          const options = { clock, logger: logger.child('backup'), reason: 'pre-rollback', processEnv: ctx.processEnv };
          return (await createBackup(environment, options)).file;
        } catch (error) {
          if (isDhashError(error, 'ENOTHINGTOBACKUP')) return undefined;
          throw error;
        }
      },
      (f) => (f ? `current state saved to ${f}` : 'nothing deployed: nothing to snapshot'),
    );
    const extracted: ExtractedBackup = await steps.run(
      'rollback:extract',
      // With the release on disk, only the database and config are read, each checked against the manifest as written;
      // otherwise extractBackup checks every entry while extracting the release too.
      () =>
        input.reusableId
          ? extractBackupData(input.file, input.extractDir, input.manifest)
          : extractBackup(input.file, input.extractDir, {
              expectedEnv: environment.name,
              projectRoot: environment.paths.root,
            }),
      (x) =>
        (x.releaseDir ? 'release, database and config' : 'database and config (release reused from disk)') +
        ' extracted and checked against the manifest',
    );
    // While the service still serves from the live database: a failing pg_restore changes nothing that serves.
    if (extracted.postgresDumpFile)
      postgres = await restorePostgresBeforeStop(ctx, extracted.postgresDumpFile, input.manifest);
    out.isTouched = true;
    await steps.run(
      'rollback:stop',
      () => driver.stop(),
      () => 'service stopped',
    );
    // Read after the stop, so no change can be written between reading the log and replacing the file.
    const mark = postgres
      ? (input.manifest.changeLogSeq ?? postgres.restoredSeq)
      : getBackupMark(input.manifest.changeLogSeq, extracted.databaseFile);
    const pg = postgres;
    const describeRead = (r: { changes: unknown[]; lineageProblem?: string }) =>
      `${r.changes.length} change(s) after seq ${mark}${r.lineageProblem ? `; ${r.lineageProblem}` : ''}`;
    const toCarry = !input.isCarryForward
      ? undefined
      : pg
        ? await steps.run('rollback:read-changes', () => readPostgresChanges(pg, mark), describeRead)
        : extracted.databaseFile && existsSync(environment.databaseFile)
          ? await steps.run(
              'rollback:read-changes',
              async () => readChangesToCarry(environment.databaseFile, extracted.databaseFile, mark),
              describeRead,
            )
          : undefined;
    await steps.run('rollback:restore', async () => {
      const parts: string[] = [];
      if (input.reusableId) {
        out.restoredReleaseId = input.reusableId;
        parts.push(`reused releases/${out.restoredReleaseId}`);
      } else if (extracted.releaseDir) {
        const manifest = await readReleaseManifest(extracted.releaseDir);
        out.restoredReleaseId = (
          await stageRelease(environment, { dir: extracted.releaseDir, manifest, isSourceDisposable: true })
        ).releaseId;
        parts.push(`release restored into releases/${out.restoredReleaseId}`);
      } else {
        throw new Error('the backup holds no release and no identical release is on disk');
      }
      if (pg) {
        parts.push(await switchPostgresDatabases(pg));
        out.preRollbackDatabase = pg.asideName;
      } else if (extracted.databaseFile) {
        await replaceDatabaseFile(extracted.databaseFile, environment.databaseFile);
        parts.push('database replaced');
      }
      const serviceJson = join(extracted.configDir, 'service.json');
      if (existsSync(serviceJson)) {
        const temp = getTempSibling(join(environment.sharedDir, 'service.json'));
        await copyFile(serviceJson, temp);
        await rename(temp, join(environment.sharedDir, 'service.json'));
        parts.push('shared/service.json restored');
      }
      await switchCurrentRelease(environment, out.restoredReleaseId);
      parts.push(`current → releases/${out.restoredReleaseId}`);
      return parts.join('; ');
    });
    if (toCarry) {
      out.carryForward = await steps.run(
        'rollback:carry-forward',
        async () =>
          pg
            ? carryForwardPostgres(pg, mark, toCarry, clock, getStoreOpener(input))
            : applyCarryForward(environment.databaseFile, mark, toCarry, clock),
        (r) => `${r.carried.length} change(s) carried forward, ${r.notCarried.length} not`,
      );
    }
    await steps.run(
      'rollback:start-service',
      () => driver.start(),
      (s) => s.detail,
    );
    out.healthChecks = await waitForRollbackHealth(ctx);
    out.smoke = await runRollbackSmoke(ctx);
    out.ok = true;
    return out;
  } catch (error) {
    // Before the switch the live database is as it was: the half-used fresh copy goes.
    await discardPostgresRestore(postgres);
    const e = error as Error & { health?: HealthWaitResult; smoke?: SmokeResult };
    return {
      ...out,
      healthChecks: out.healthChecks ?? e.health,
      smoke: out.smoke ?? e.smoke,
      reason: e.message,
      error,
    };
  }
}

/**
 * A backup of the other engine would restore nothing the service reads (a SQLite file beside a PostgreSQL service, or
 * a dump with no server to take it): refused before anything changes.
 */
export function assertBackupEngine(environment: ResolvedEnvironment, file: string, manifest: BackupManifest): void {
  const backupEngine = manifest.engine ?? 'sqlite';
  const envEngine = environment.database.engine;
  if (manifest.database === null || backupEngine === envEngine) return;
  throw createError('EBACKUPENGINEMISMATCH', {
    file: relative(environment.paths.root, file) || file,
    env: environment.name,
    backupEngine: backupEngine === 'postgres' ? 'PostgreSQL' : 'SQLite',
    envEngine: envEngine === 'postgres' ? 'PostgreSQL' : 'SQLite',
  });
}

/** The service's own PostgreSQL store unless a test injects another. */
function getStoreOpener(input: RestoreInput): OpenPostgresStore {
  return input.openPostgresStore ?? ((url, clock) => openPostgresStore({ url, clock, maxConnections: 2 }));
}
