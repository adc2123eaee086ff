// The service's SQLite store: opening, migrations (status, apply, dry run) and the schema-version guard.
export { openDatabase, openDatabaseForReading, closeDatabase, type Db, type OpenDatabaseOptions } from './database.js';
export { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations/migration-list.js';
export {
  getSchemaVersion,
  getMigrationStatus,
  applyPendingMigrations,
  assertSchemaCurrent,
  assertMigratable,
  type MigrationStatus,
  type MigrationStatusEntry,
  type MigrationState,
  type MigrationRunOptions,
  type MigrationRunReport,
  type AppliedMigration,
} from './migration-runner.js';
export {
  dryRunMigrations,
  dryRunMigrationsOnFile,
  type MigrationDryRunReport,
  type StatementEffect,
  type DryRunMigration,
} from './migration-dry-run.js';
export { applyMigrations } from './apply-migrations.js';
export { getMigrationChecksum } from './migration-checksum.js';
export {
  getRevertPlan,
  revertMigrations,
  rehearseRevertOnCopy,
  revertMigrationsOnFile,
  type RevertReport,
} from './migration-down.js';
export {
  appendChange,
  getChangeLogSeq,
  listChangesSince,
  getChange,
  hasChangeLog,
  CHANGE_LOG_TABLE,
  type ChangeRecord,
  type ChangeKind,
  type ChangeEntity,
} from './change-log.js';
