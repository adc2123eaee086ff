// The fleet's shared database as the rollout uses it: what is pending, one backup, one migration before the first wave.

/** A migration of the release, as the fleet rollout judges it. */
export interface FleetMigration {
  version: number;
  name: string;
  /** The release before it still runs against the migrated schema (an expand step); required for a fleet. */
  isBackwardCompatible: boolean;
  hasDown: boolean;
}

export interface PendingMigrations {
  fromVersion: number;
  toVersion: number;
  pending: FleetMigration[];
}

export interface FleetDatabase {
  /** Where it is, for plans and messages; never the URL (it holds a password). */
  readonly description: string;
  /** Read-only: the release's migrations the database has not applied. Throws a coded error when unreachable. */
  getPendingMigrations(): Promise<PendingMigrations>;
  /**
   * One consistent backup (pg_dump inside the backup zip and its .sha256), verified before it is returned; no file
   * when there is nothing to back up yet (a fleet's first rollout on an empty database). Throws a coded error when it
   * cannot be taken; then nothing was changed.
   */
  backUp(): Promise<{ file?: string; detail: string }>;
  /**
   * Applies every pending migration, each in one transaction; returns what was applied. A failed migration is rolled
   * back and thrown (the ones before it stay applied, and are all backward compatible).
   */
  migrate(): Promise<{ fromVersion: number; toVersion: number; applied: FleetMigration[] }>;
  /** Ends its connections; idempotent. */
  close(): Promise<void>;
}
