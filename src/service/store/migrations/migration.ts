// The shape of one versioned SQL migration, embedded as a TS module so the build needs no copy step.
export interface Migration {
  /** 1, 2, 3...: applied in ascending order, each exactly once. */
  version: number;
  /** snake_case description; shown by `dhash migrate status` and recorded with the checksum. */
  name: string;
  /** Plain SQL statements separated by `;`. No BEGIN/COMMIT: the runner wraps each migration in one transaction. */
  sql: string;
  /**
   * The reviewed inverse of `sql`, run by a `down-migrate` rollback (src/service/store/migration-down.ts). It is part
   * of the recorded checksum, so it ships with its `up` and an edited down is refused like an edited up.
   */
  down?: string;
  /**
   * True when the release before this migration still runs against the migrated schema (an "expand" step: new
   * tables, nullable columns). A fleet rollout migrates once before its first wave while old hosts keep serving, so
   * it refuses a migration without this flag and asks for it to be split into expand and contract. Not part of the
   * checksum: it describes the SQL, it does not change what runs.
   */
  isBackwardCompatible?: boolean;
  /**
   * PostgreSQL's text, for a migration whose SQLite text does not run there (AUTOINCREMENT, GLOB, sqlite_sequence).
   * Absent: PostgreSQL runs `sql` and `down` as they are. Present: it replaces both (no `down` here means none on
   * PostgreSQL). Its own checksum is recorded in PostgreSQL databases; SQLite's checksum never covers it, so adding
   * an override to a released migration leaves every SQLite database's recorded checksum valid.
   */
  postgres?: MigrationDialectText;
}

/** One dialect's text of a migration: what runs, and its reviewed inverse. */
export interface MigrationDialectText {
  sql: string;
  down?: string;
}

/** The store engines a migration runs on. */
export type MigrationDialect = 'sqlite' | 'postgres';
