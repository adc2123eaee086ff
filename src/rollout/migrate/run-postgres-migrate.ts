// `dhash migrate` on PostgreSQL: status, up and --dry-run (a transaction rolled back) through the async runner, with
// the same output as on a SQLite file and the URL shown without its password.
import { ExitCode } from '../../lib/exit-codes.js';
import { isDhashError } from '../../lib/errors.js';
import { assertPostgresMigratable } from '../../service/store/postgres/index.js';
import { withPostgresClient } from '../backup/postgres-connection.js';
import {
  applyLocationMigrations,
  dryRunLocationMigrations,
  readMigrationStatus,
  type MigrationLocation,
} from '../deploy/environment-migrations.js';
import {
  formatCount,
  formatMigrationDryRun,
  formatMigrationRun,
  formatMigrationTable,
  MIGRATION_ROLLED_BACK_NOTE,
} from './format-migration-report.js';

export interface PostgresMigrateInput {
  action: 'status' | 'up';
  location: Extract<MigrationLocation, { engine: 'postgres' }>;
  isDryRun: boolean;
  /** One line of human output (the CLI's redacting writer). */
  out: (line?: string) => void;
}

/**
 * Runs the action and returns the exit code: 0, or 1 for a dry run that would fail. `up` prints the table after
 * applying, then rethrows a failure (EMIGRATIONFAILED: that migration was rolled back); an edited or unknown
 * migration is refused (`status` says so with the same coded error).
 */
export async function runPostgresMigrate(input: PostgresMigrateInput): Promise<number> {
  const { action, location, out } = input;
  if (action === 'status') return printPostgresStatus(location, out);
  if (input.isDryRun) {
    const report = await dryRunLocationMigrations(location);
    formatMigrationDryRun(report).forEach((line) => out(line));
    return report.ok ? ExitCode.OK : ExitCode.FAILED;
  }
  out(`database: ${location.target.safeUrl}`);
  let failure: unknown;
  try {
    out(formatMigrationRun(await applyLocationMigrations(location)));
  } catch (error) {
    failure = error;
  }
  formatMigrationTable((await readMigrationStatus(location)).entries).forEach((line) => out(line));
  if (failure === undefined) return ExitCode.OK;
  if (isDhashError(failure, 'EMIGRATIONFAILED')) out(MIGRATION_ROLLED_BACK_NOTE);
  throw failure;
}

/** The schema version, the pending count and the table; an edited or unknown migration throws as `up` would. */
async function printPostgresStatus(
  location: PostgresMigrateInput['location'],
  out: PostgresMigrateInput['out'],
): Promise<number> {
  out(`database: ${location.target.safeUrl}`);
  const status = await readMigrationStatus(location);
  out(
    `schema version: ${status.currentVersion} (this release: ${status.latestVersion}); ` +
      `${formatCount(status.pending.length, 'pending migration')}`,
  );
  formatMigrationTable(status.entries).forEach((line) => out(line));
  if (status.edited.length || status.unknown.length)
    await withPostgresClient(location.target, (client) => assertPostgresMigratable(client));
  return ExitCode.OK;
}
