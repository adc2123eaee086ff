// Reverts applied migrations with their reviewed `down`: on a copy first, then on the live file in one transaction.
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createError } from '../../lib/errors.js';
import { MIGRATIONS, type Migration } from './migrations/migration-list.js';
import { assertMigratable, getSchemaVersion, MIGRATIONS_TABLE } from './migration-runner.js';
import { planRevert } from './migration-status.js';

type Db = Database.Database;

export interface RevertReport {
  fromVersion: number;
  toVersion: number;
  reverted: { version: number; name: string }[];
}

/**
 * The migrations to revert, newest first. Refuses (before anything runs) an edited migration, whose recorded checksum
 * covers its down too (EMIGRATIONEDITED), a version that is not applied, and one without a down (EMIGRATIONNODOWN).
 */
export function getRevertPlan(
  db: Db,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Migration[] {
  return planRevert(assertMigratable(db, { migrations }), versions, migrations, 'sqlite');
}

/**
 * Runs every down and removes its bookkeeping row in ONE transaction: all reverted, or (on any error) nothing changed.
 */
export function revertMigrations(
  db: Db,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): RevertReport {
  const plan = getRevertPlan(db, versions, migrations);
  const fromVersion = getSchemaVersion(db);
  let current = plan[0];
  try {
    db.transaction(() => {
      for (const migration of plan) {
        current = migration;
        db.exec(migration.down!);
        db.prepare(`DELETE FROM ${MIGRATIONS_TABLE} WHERE version = ?`).run(migration.version);
      }
    }).immediate();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw createError(
      'EMIGRATIONDOWNFAILED',
      { file: db.name, version: current.version, name: current.name, reason },
      error,
    );
  }
  return {
    fromVersion,
    toVersion: getSchemaVersion(db),
    reverted: plan.map((m) => ({ version: m.version, name: m.name })),
  };
}

/**
 * The same revert on an online-backup copy of the file (the live file is only read); throws what the live run would.
 */
export async function rehearseRevertOnCopy(
  file: string,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<RevertReport> {
  const dir = await mkdtemp(join(tmpdir(), 'dhash-down-rehearsal-'));
  try {
    const copyFile = join(dir, 'copy.sqlite');
    const live = new Database(file, { fileMustExist: true });
    try {
      live.pragma('busy_timeout = 5000');
      await live.backup(copyFile);
    } finally {
      live.close();
    }
    const copy = new Database(copyFile);
    try {
      copy.pragma('foreign_keys = ON');
      return revertMigrations(copy, versions, migrations);
    } finally {
      copy.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The live run: opens the file, reverts in one transaction, closes (the service must be stopped). */
export function revertMigrationsOnFile(
  file: string,
  versions: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): RevertReport {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    return revertMigrations(db, versions, migrations);
  } finally {
    db.close();
  }
}
