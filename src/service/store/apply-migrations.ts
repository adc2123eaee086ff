// The contract's entry point for the rollout's migrate step: a real run, or a dry run on a copy.
import type Database from 'better-sqlite3';
import { applyPendingMigrations, type MigrationRunOptions, type MigrationRunReport } from './migration-runner.js';
import { dryRunMigrations, type MigrationDryRunReport } from './migration-dry-run.js';

export function applyMigrations(
  db: Database.Database,
  options: MigrationRunOptions & { isDryRun: true },
): Promise<MigrationDryRunReport>;
export function applyMigrations(
  db: Database.Database,
  options?: MigrationRunOptions & { isDryRun?: false },
): Promise<MigrationRunReport>;
export async function applyMigrations(
  db: Database.Database,
  options: MigrationRunOptions & { isDryRun?: boolean } = {},
): Promise<MigrationRunReport | MigrationDryRunReport> {
  return options.isDryRun ? dryRunMigrations(db, options) : applyPendingMigrations(db, options);
}
