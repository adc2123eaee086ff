// The PostgreSQL half of the restore strategy, as named steps: restore into a fresh database while the service still
// serves, then (stopped) read the changes to carry, switch the databases by rename, carry the changes forward.
import type { BackupManifest } from '../core/backup-manifest.js';
import type { Clock } from '../../lib/clock.js';
import { getPostgresTarget, withDatabase, type PostgresTarget } from '../backup/postgres-connection.js';
import type { ChangeRecord } from '../../service/store/index.js';
import type { ServiceStore } from '../../service/store/service-store.js';
import type { CarryForwardReport } from './carry-forward.js';
import { applyCarryForwardToStore } from './carry-forward-to-store.js';
import { readPostgresChangesToCarry } from './postgres-change-log.js';
import { createSideDatabaseName, dropDatabase, restoreIntoFreshDatabase, switchDatabases } from './postgres-restore.js';
import type { RollbackContext } from './rollback-checks.js';

export interface PostgresRestoreState {
  live: PostgresTarget;
  /** The fresh database the dump went into; after the switch it carries the live name. */
  restoredName: string;
  /** The name the live database is kept under after the switch: the pre-rollback database. */
  asideName: string;
  /** The restored database's change-log seq: the carry-forward mark when the manifest has none. */
  restoredSeq: number;
  isSwitched: boolean;
}

/** Opens the service's store on a URL with the given clock (the carry-forward stamps each change with its own time). */
export type OpenPostgresStore = (url: string, clock: Clock) => Promise<ServiceStore>;

/**
 * `rollback:restore-database`: pg_restore into `<db>_restore_<ts>` and check it against the manifest, the live database
 * only read and the service still serving, so a failure here leaves everything as it was (the fresh one is dropped).
 */
export async function restorePostgresBeforeStop(
  ctx: RollbackContext,
  dumpFile: string,
  manifest: BackupManifest,
): Promise<PostgresRestoreState> {
  const live = getPostgresTarget(ctx.environment);
  const nowMs = ctx.clock.now();
  const restoredName = createSideDatabaseName(live.database, 'restore', nowMs);
  const asideName = createSideDatabaseName(live.database, 'prerollback', nowMs);
  return ctx.steps.run(
    'rollback:restore-database',
    async () => {
      const facts = await restoreIntoFreshDatabase(live, dumpFile, restoredName, manifest, ctx.processEnv ?? {});
      return { live, restoredName, asideName, restoredSeq: facts.changeLogSeq, isSwitched: false };
    },
    (s) =>
      `pg_restore into ${s.restoredName}: schema ${manifest.schemaVersion ?? 'none'}, ` +
      'row counts match the manifest; the live database is untouched',
  );
}

/** The changes written to the live database after the backup (service stopped: nothing is written meanwhile). */
export function readPostgresChanges(
  state: PostgresRestoreState,
  mark: number,
): Promise<{ changes: ChangeRecord[]; lineageProblem?: string }> {
  return readPostgresChangesToCarry(state.live, withDatabase(state.live, state.restoredName), mark);
}

/** Renames live → aside and restored → live in one transaction; the state records that the switch happened. */
export async function switchPostgresDatabases(state: PostgresRestoreState): Promise<string> {
  await switchDatabases(state.live, state.restoredName, state.asideName);
  state.isSwitched = true;
  const name = state.live.database;
  return `database ${name} restored from the dump; the pre-rollback database is kept as ${state.asideName}`;
}

/**
 * Re-applies the changes read before the switch to the restored database (now under the live name) through the
 * service's store, with a clock that reads each change's own time.
 */
export async function carryForwardPostgres(
  state: PostgresRestoreState,
  mark: number,
  toCarry: { changes: ChangeRecord[]; lineageProblem?: string },
  clock: Clock,
  openStore: OpenPostgresStore,
): Promise<CarryForwardReport> {
  let changeTimeMs = clock.now();
  const changeClock: Clock = { now: () => changeTimeMs, sleep: (ms, signal) => clock.sleep(ms, signal) };
  const store = await openStore(state.live.url, changeClock);
  try {
    return await applyCarryForwardToStore(store, mark, toCarry, (atMs) => (changeTimeMs = atMs));
  } finally {
    await store.close();
  }
}

/** After a failure before the switch: drops the fresh database, so only the untouched live one remains. */
export async function discardPostgresRestore(state: PostgresRestoreState | undefined): Promise<void> {
  if (!state || state.isSwitched) return;
  await dropDatabase(state.live, state.restoredName).catch(() => {});
}
