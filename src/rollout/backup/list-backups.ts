// Lists an environment's backups newest first with their verification state, and prunes them by retention.
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBackupName, sortBackupNamesNewestFirst } from '../core/backup-name.js';
import type { BackupProblem } from '../core/backup-manifest.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';
import { verifyBackup } from './verify-backup.js';

export type BackupState = 'verified' | 'failed' | 'unchecked';

export interface BackupListing {
  file: string;
  name: string;
  sha256File: string;
  hasSha256File: boolean;
  createdAtMs: number;
  sizeBytes: number;
  /** `unchecked` unless listed with `verify: true`. */
  state: BackupState;
  problems: BackupProblem[];
}

/**
 * The finished backups of `env` in its backups folder, newest first. Dot-prefixed temp files (a backup being written,
 * or killed midway) and other environments' backups are never listed. `verify: true` reads every byte of each one.
 */
export async function listBackups(
  environment: ResolvedEnvironment,
  options: { verify?: boolean } = {},
): Promise<BackupListing[]> {
  const names = await readdir(environment.backupsDir).catch(() => [] as string[]);
  const out: BackupListing[] = [];
  for (const name of sortBackupNamesNewestFirst(names)) {
    const parsed = parseBackupName(name)!;
    if (parsed.env !== environment.name) continue;
    const file = join(environment.backupsDir, name);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) continue;
    const listing: BackupListing = {
      file,
      name,
      sha256File: `${file}.sha256`,
      hasSha256File: existsSync(`${file}.sha256`),
      createdAtMs: parsed.createdAtMs,
      sizeBytes: info.size,
      state: 'unchecked',
      problems: [],
    };
    if (options.verify) {
      const result = await verifyBackup(file, { expectedEnv: environment.name, projectRoot: environment.paths.root });
      listing.state = result.ok ? 'verified' : 'failed';
      listing.problems = result.problems;
    }
    out.push(listing);
  }
  return out;
}

export interface PruneResult {
  kept: BackupListing[];
  deleted: BackupListing[];
  /** Newer than the oldest kept one but failing verification: left for a human to look at. */
  keptUnverified: BackupListing[];
  isDryRun: boolean;
}

/**
 * Retention: keeps the `keep` newest verified backups. Walking newest first, backups are verified until `keep` of
 * them passed; everything older than the last kept one is deleted (verified or not, without reading it).
 * Unverifiable backups newer than that are kept for inspection. When fewer than `keep` verified backups exist,
 * nothing is deleted — so the last verified backup is never deleted. Temp files are left alone.
 */
export async function pruneBackups(
  environment: ResolvedEnvironment,
  options: { keep: number; isDryRun?: boolean },
): Promise<PruneResult> {
  if (!Number.isInteger(options.keep) || options.keep < 1) {
    throw createError('EINVALIDOPTION', {
      option: '--keep',
      expected: 'a whole number of at least 1',
      actual: options.keep,
    });
  }
  const all = await listBackups(environment);
  const kept: BackupListing[] = [];
  const keptUnverified: BackupListing[] = [];
  let index = 0;
  for (; index < all.length && kept.length < options.keep; index++) {
    const listing = all[index]!;
    const result = await verifyBackup(listing.file, {
      expectedEnv: environment.name,
      projectRoot: environment.paths.root,
    });
    listing.state = result.ok ? 'verified' : 'failed';
    listing.problems = result.problems;
    (result.ok ? kept : keptUnverified).push(listing);
  }
  const deleted = kept.length < options.keep ? [] : all.slice(index);
  if (!options.isDryRun) {
    for (const listing of deleted) {
      await rm(listing.sha256File, { force: true });
      await rm(listing.file, { force: true });
    }
  }
  return { kept, deleted, keptUnverified, isDryRun: options.isDryRun === true };
}
