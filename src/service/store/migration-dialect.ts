// The text of a migration on one engine, and the checksum recorded for it there.
import type { Migration, MigrationDialect, MigrationDialectText } from './migrations/migration.js';
import { getMigrationChecksum } from './migration-checksum.js';

/** SQLite's text is `sql`/`down`; PostgreSQL's is the `postgres` override when the dialects differ. */
export function getMigrationText(migration: Migration, dialect: MigrationDialect): MigrationDialectText {
  if (dialect === 'postgres' && migration.postgres) return migration.postgres;
  return { sql: migration.sql, down: migration.down };
}

/**
 * The checksum recorded in a database of `dialect`. SQLite's is exactly getMigrationChecksum(migration), as it was
 * before PostgreSQL existed (databases in the field recorded it); PostgreSQL's hashes the text PostgreSQL runs.
 */
export function getDialectChecksum(migration: Migration, dialect: MigrationDialect): string {
  return getMigrationChecksum(getMigrationText(migration, dialect));
}
