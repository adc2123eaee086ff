// The service's store: SQLite (opening, migrations: status, apply, dry run, down; the schema-version guard), the
// engine-neutral ServiceStore and its factory. PostgreSQL's API is in ./postgres/index.ts.
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
export { getMigrationText, getDialectChecksum } from './migration-dialect.js';
export { computeMigrationStatus, planRevert, type AppliedMigrationRow } from './migration-status.js';
export type { MigrationDialect, MigrationDialectText } from './migrations/migration.js';
export type { ServiceStore, StoreEngine, LibrarySnapshot, SchemaCheck } from './service-store.js';
export { createSqliteStore, openSqliteStore } from './sqlite-store.js';
export { openServiceStore, type StoreLocation, type OpenServiceStoreOptions } from './open-service-store.js';
