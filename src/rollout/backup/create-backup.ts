// backup:create — release + consistent database snapshot + config into a verified zip and its .sha256, atomically.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createBackupManifest, type BackupManifest, type PostgresBackupFacts } from '../core/backup-manifest.js';
import { formatBackupName, formatBackupTempName, formatChecksumLine } from '../core/backup-name.js';
import type { Clock } from '../../lib/clock.js';
import { createError } from '../../lib/errors.js';
import { getBackupNeededBytes } from '../core/disk-space.js';
import { toNoSpaceError } from '../../lib/no-space.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Logger } from '../../lib/logger.js';
import { collectConfigFiles, collectReleaseFiles, getCurrentRelease } from './collect-sources.js';
import { planDatabaseSource, snapshotDatabaseSource } from './database-source.js';
import { checkWrittenZip, writeBackupZip, type BackupSource } from './write-backup-zip.js';
import { createBackupRefusal } from './verify-backup.js';

export interface BackupProgress {
  phase: 'database' | 'archive' | 'verify';
  doneBytes: number;
  totalBytes: number;
}

export interface CreateBackupOptions {
  clock: Clock;
  logger: Logger;
  isDryRun?: boolean;
  /** Recorded in the manifest: `manual`, `pre-deploy`, `pre-rollback`… */
  reason?: string;
  /**
   * Deflate level for compressible entries (0 = store everything); 1 measured best for time vs size
   * (bench/backup.bench.ts).
   */
  compressionLevel?: number;
  onProgress?: (progress: BackupProgress) => void;
  /** The environment pg_dump runs with (a PostgreSQL environment); default: this process's. */
  processEnv?: Record<string, string | undefined>;
}

export interface BackupPlan {
  env: string;
  /** Where the backup would be written (absolute) and its checksum file. */
  file: string;
  sha256File: string;
  /** True before the first deploy: no current release and no database. */
  isNothingToBackUp: boolean;
  release: {
    dir: string;
    releaseId: string | null;
    version: string | null;
    fileCount: number;
    symlinkCount: number;
    sizeBytes: number;
  } | null;
  /** `file` is the SQLite file, or for PostgreSQL the URL without its password. */
  database: { engine: 'sqlite' | 'postgres'; file: string; sizeBytes: number } | null;
  config: string[];
  /** Bytes to read: release files + database + config. */
  totalBytes: number;
}

export interface PlannedBackup {
  isDryRun: true;
  plan: BackupPlan;
}

export interface CreatedBackup {
  isDryRun: false;
  file: string;
  sha256File: string;
  sha256: string;
  manifest: BackupManifest;
  sizeBytes: number;
  durationMs: number;
  plan: BackupPlan;
}

/**
 * Creates `backups/dhash_<ts>_<env>.zip` and its `.sha256`, or with `isDryRun` only returns the plan (writes nothing).
 * Throws ENOTHINGTOBACKUP (exit 2) when the environment has no current release and no database (first deploy);
 * dry-run reports that as `plan.isNothingToBackUp` instead. The zip is written under a dot-prefixed temp name,
 * read back and verified, and only then given its final name; an existing name is never overwritten.
 */
export async function createBackup(
  environment: ResolvedEnvironment,
  options: CreateBackupOptions & { isDryRun: true },
): Promise<PlannedBackup>;
export async function createBackup(
  environment: ResolvedEnvironment,
  options: CreateBackupOptions & { isDryRun?: false },
): Promise<CreatedBackup>;
export async function createBackup(
  environment: ResolvedEnvironment,
  options: CreateBackupOptions,
): Promise<PlannedBackup | CreatedBackup>;
export async function createBackup(
  environment: ResolvedEnvironment,
  options: CreateBackupOptions,
): Promise<PlannedBackup | CreatedBackup> {
  const { clock, logger } = options;
  const startedAtMs = clock.now();
  const release = await getCurrentRelease(environment);
  const releaseFiles = release ? await collectReleaseFiles(release.dir, logger) : null;
  const databasePlan = await planDatabaseSource(environment);
  const hasDatabase = databasePlan.isPresent;
  const databaseSize = databasePlan.sizeBytes;
  const config = await collectConfigFiles(environment);
  const createdAtMs = pickFreeTimestamp(environment, startedAtMs);
  const file = join(environment.backupsDir, formatBackupName(environment.name, createdAtMs));
  const configBytes = config.reduce((n, c) => n + c.sizeBytes, 0);
  const plan: BackupPlan = {
    env: environment.name,
    file,
    sha256File: `${file}.sha256`,
    isNothingToBackUp: !release && !hasDatabase,
    release:
      release && releaseFiles
        ? {
            dir: release.dir,
            releaseId: release.releaseId ?? null,
            version: release.version ?? null,
            fileCount: releaseFiles.files.length,
            symlinkCount: releaseFiles.symlinks.length,
            sizeBytes: releaseFiles.sizeBytes,
          }
        : null,
    database: hasDatabase
      ? { engine: databasePlan.engine, file: databasePlan.location, sizeBytes: databaseSize }
      : null,
    config: config.map((c) => c.zipPath),
    totalBytes: (releaseFiles?.sizeBytes ?? 0) + databaseSize + configBytes,
  };
  if (options.isDryRun) return { isDryRun: true, plan };
  if (plan.isNothingToBackUp)
    throw createError('ENOTHINGTOBACKUP', {
      env: environment.name,
      root: relative(environment.paths.root, environment.root) || environment.root,
    });

  await mkdir(environment.backupsDir, { recursive: true });
  const finalName = formatBackupName(environment.name, createdAtMs);
  const suffix = randomBytes(6).toString('hex');
  const tempZip = join(environment.backupsDir, formatBackupTempName(finalName, suffix));
  const tempDb = join(environment.backupsDir, formatBackupTempName(finalName, `db-${suffix}`));
  const log = logger.child('backup');
  log.info('backup:create started', {
    env: environment.name,
    file: tempZip,
    reason: options.reason ?? 'manual',
    engine: environment.database.engine,
  });
  try {
    let schemaVersion: number | null = null;
    let changeLogSeq: number | undefined;
    let postgres: PostgresBackupFacts | undefined;
    const sources: BackupSource[] = [...(releaseFiles?.files ?? [])];
    if (hasDatabase) {
      const snapshot = await snapshotDatabaseSource(environment, tempDb, {
        log,
        // Like the process driver, the toolkit's own environment unless the caller passed one (pg_dump needs none of
        // it for the connection: the URL and PGPASSWORD are set from the environment's database).
        processEnv: options.processEnv ?? process.env,
        onProgress: (doneBytes, totalBytes) => options.onProgress?.({ phase: 'database', doneBytes, totalBytes }),
      });
      ({ schemaVersion, changeLogSeq, postgres } = snapshot);
      sources.push(snapshot.source);
    }
    sources.push(...config);
    const totalBytes = sources.reduce((n, s) => n + s.sizeBytes, 0);
    let doneBytes = 0;
    const written = await writeBackupZip(tempZip, sources, {
      mtime: new Date(createdAtMs),
      compressionLevel: options.compressionLevel ?? 1,
      onBytes: (n) => options.onProgress?.({ phase: 'archive', doneBytes: (doneBytes += n), totalBytes }),
      createManifest: (entries) =>
        createBackupManifest({
          env: environment.name,
          createdAtMs,
          reason: options.reason,
          release: release ?? null,
          schemaVersion,
          changeLogSeq,
          hasDatabase,
          engine: environment.database.engine,
          postgres,
          entries,
          symlinks: releaseFiles?.symlinks ?? [],
        }),
    });
    await rm(tempDb, { force: true });

    // Read it back from disk before it gets a name anyone would trust: the file's CRC-32 against the bytes written
    // (why that suffices, and not a second inflate + hash of every entry: checkWrittenZip).
    let verifiedBytes = 0;
    const onVerifyBytes = (n: number) =>
      options.onProgress?.({ phase: 'verify', doneBytes: (verifiedBytes += n), totalBytes: written.sizeBytes });
    const readBackProblem = await checkWrittenZip(tempZip, written, onVerifyBytes);
    if (readBackProblem) {
      const problem = {
        code: 'ECHECKSUMMISMATCH',
        message: readBackProblem,
        expected: written.sha256,
        actual: 'the file on disk differs from what was written',
      };
      throw createBackupRefusal(tempZip, { problems: [problem] }, environment.paths.root);
    }

    const { file: finalFile } = await publishBackup(environment, tempZip, written.sha256, createdAtMs);
    const durationMs = clock.now() - startedAtMs;
    log.info('backup:create succeeded', {
      file: finalFile,
      sizeBytes: written.sizeBytes,
      sha256: written.sha256,
      durationMs,
    });
    return {
      isDryRun: false,
      file: finalFile,
      sha256File: `${finalFile}.sha256`,
      sha256: written.sha256,
      manifest: written.manifest,
      sizeBytes: written.sizeBytes,
      durationMs,
      plan: { ...plan, file: finalFile, sha256File: `${finalFile}.sha256` },
    };
  } catch (error) {
    log.error('backup:create failed', { error });
    // A full disk (ENOSPC, SQLITE_FULL) is a refusal naming the folder and the space; the temp files go in finally.
    const neededBytes = getBackupNeededBytes(plan.database?.sizeBytes ?? 0, plan.release?.sizeBytes ?? 0);
    throw (
      (await toNoSpaceError(error, {
        folder: environment.backupsDir,
        what: 'write the backup',
        neededBytes,
        isNothingChanged: true,
      })) ?? error
    );
  } finally {
    // SQLite's rollback journal of the snapshot stays behind when its write fails: remove every temp sibling.
    for (const temp of [tempDb, `${tempDb}-journal`, `${tempDb}-wal`, `${tempDb}-shm`, tempZip, `${tempZip}.sha256`])
      await rm(temp, { force: true });
  }
}

/**
 * The first millisecond at or after `fromMs` whose name (zip or .sha256) is free: waiting 1 ms of the clock, without
 * sleeping.
 */
function pickFreeTimestamp(environment: ResolvedEnvironment, fromMs: number): number {
  let ms = fromMs;
  const isTaken = (t: number) => {
    const f = join(environment.backupsDir, formatBackupName(environment.name, t));
    return existsSync(f) || existsSync(`${f}.sha256`);
  };
  while (isTaken(ms)) ms++;
  return ms;
}

/**
 * Gives the verified temp zip its final name. The `.sha256` is created first with link() (fails instead of
 * overwriting), which claims the name even against a concurrent backup; then the zip is linked in place. A crash in
 * between leaves a `.sha256` without a zip, which `ls backups/dhash_*.zip` and listBackups never show as a backup.
 */
async function publishBackup(
  environment: ResolvedEnvironment,
  tempZip: string,
  sha256: string,
  createdAtMs: number,
): Promise<{ file: string }> {
  for (let ms = createdAtMs; ; ms++) {
    const file = join(environment.backupsDir, formatBackupName(environment.name, ms));
    if (existsSync(file)) continue;
    const tempSum = `${tempZip}.sha256`;
    await writeFile(tempSum, formatChecksumLine(sha256, relative(environment.paths.root, file)), { flag: 'wx' });
    try {
      await link(tempSum, `${file}.sha256`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    } finally {
      await unlink(tempSum);
    }
    await link(tempZip, file);
    return { file };
  }
}
