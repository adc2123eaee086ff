// The PostgreSQL store's public API: connections, migrations (status, apply, dry run, down), change log, the store.
export {
  createPostgresPool,
  withPgClient,
  withPgTransaction,
  type PgConnection,
  type PostgresPoolOptions,
} from './pg-connection.js';
export { describePostgresUrl, parsePostgresUrl, DATABASE_URL_ENV } from './pg-url.js';
export {
  getPostgresSchemaVersion,
  getPostgresMigrationStatus,
  assertPostgresMigratable,
  assertPostgresSchemaCurrent,
  applyPendingPostgresMigrations,
} from './pg-migration-runner.js';
export { dryRunPostgresMigrations, type PostgresDryRunOptions } from './pg-migration-dry-run.js';
export { getPostgresRevertPlan, revertPostgresMigrations, rehearsePostgresRevert } from './pg-migration-down.js';
export { getPgChangeLogSeq, listPgChangesSince, getPgChange, CHANGE_CHANNEL } from './pg-change-log.js';
export { openPostgresStore, type OpenPostgresStoreOptions } from './postgres-store.js';
