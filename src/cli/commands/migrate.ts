// `dhash migrate [status|up]`: shows or applies the service's schema migrations; `--dry-run` applies them to a copy
// (PostgreSQL: inside a transaction that is rolled back).
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  applyPendingMigrations,
  assertMigratable,
  closeDatabase,
  dryRunMigrationsOnFile,
  getMigrationChecksum,
  getMigrationStatus,
  getSchemaVersion,
  openDatabase,
  openDatabaseForReading,
} from '../../service/store/index.js';
import { createLineWriter } from '../line-writer.js';
import { getMigrationLocation, type MigrationLocation } from '../../rollout/deploy/environment-migrations.js';
import { parsePostgresUrl } from '../../rollout/backup/postgres-connection.js';
import { DATABASE_URL_ENV } from '../../service/store/postgres/pg-url.js';
import {
  formatCount,
  formatMigrationDryRun,
  formatMigrationRun,
  formatMigrationTable,
  MIGRATION_ROLLED_BACK_NOTE,
  type MigrationTableRow,
} from '../../rollout/migrate/format-migration-report.js';
import { runPostgresMigrate } from '../../rollout/migrate/run-postgres-migrate.js';

interface MigrateOptions {
  db?: string;
  env?: string;
  dryRun?: boolean;
}

const ACTIONS = ['status', 'up'] as const;

export const registerMigrate: RegisterCommand = (program, ctx, run) => {
  program
    .command('migrate')
    .description('show (`status`) or apply (`up`, the default) the service database schema migrations')
    .argument('[action]', 'status | up', 'up')
    .option(
      '--db <file>',
      'SQLite database file (default: .dhash/dhash.sqlite under the project root, as `dhash serve`)',
    )
    .option(
      '--env <name>',
      "use the environment's database (<root>/shared/dhash.sqlite, or PostgreSQL at its database.urlEnv variable)",
    )
    .option('--dry-run', "apply the pending migrations to a copy and print each statement's effect; changes nothing")
    .action(
      run(async (action: string, opts: MigrateOptions) => {
        if (!(ACTIONS as readonly string[]).includes(action)) {
          throw createError('EINVALIDOPTION', { option: 'action', expected: '`status` or `up`', actual: action });
        }
        if (opts.db !== undefined && opts.env !== undefined) {
          throw createError('EINVALIDOPTION', {
            option: '--db',
            expected: 'absent when --env is given (pick one)',
            actual: opts.db,
          });
        }
        const location = await resolveLocation(opts, ctx.cwd, ctx.processEnv);
        const out = createLineWriter(ctx);
        if (location.engine === 'postgres')
          return runPostgresMigrate({
            action: action as (typeof ACTIONS)[number],
            location,
            isDryRun: Boolean(opts.dryRun),
            out,
          });
        const file = location.file;

        if (action === 'status') return printStatus(file, out);
        if (opts.dryRun) {
          const report = await dryRunMigrationsOnFile(file);
          formatMigrationDryRun(report).forEach((line) => out(line));
          return report.ok ? ExitCode.OK : ExitCode.FAILED;
        }
        return migrateUp(file, out);
      }),
    );
};

/**
 * --env: the environment's engine decides; else DHASH_DATABASE_URL (as `dhash serve` reads it) or the --db file. Both
 * a URL and --db are refused, as `serve` refuses them: the operator must not migrate a database they did not name.
 */
async function resolveLocation(
  opts: MigrateOptions,
  cwd: string,
  processEnv: Record<string, string | undefined>,
): Promise<MigrationLocation> {
  const root = findProjectRoot(cwd);
  if (opts.env !== undefined) return getMigrationLocation(await resolveEnvironment(root, opts.env, processEnv));
  const url = processEnv[DATABASE_URL_ENV];
  if (url) {
    if (opts.db !== undefined)
      throw createError('EINVALIDOPTION', {
        option: '--db',
        expected: `absent when ${DATABASE_URL_ENV} is set (unset it to migrate the SQLite file)`,
        actual: opts.db,
      });
    return { engine: 'postgres', target: parsePostgresUrl(url, DATABASE_URL_ENV) };
  }
  return {
    engine: 'sqlite',
    file: opts.db !== undefined ? resolve(cwd, opts.db) : join(root, '.dhash', 'dhash.sqlite'),
  };
}

function printStatus(file: string, out: (line?: string) => void): number {
  out(`database: ${file}`);
  if (!existsSync(file)) {
    out(
      'database does not exist yet; ' +
        `${formatCount(MIGRATIONS.length, 'migration')} would create schema version ${LATEST_SCHEMA_VERSION}`,
    );
    printMigrationTable(
      MIGRATIONS.map((m) => ({
        version: m.version,
        name: m.name,
        state: 'pending',
        checksum: getMigrationChecksum(m),
      })),
      out,
    );
    return ExitCode.OK;
  }
  const db = openDatabaseForReading(file);
  try {
    const status = getMigrationStatus(db);
    out(
      `schema version: ${status.currentVersion} (this release: ${status.latestVersion}); ` +
        `${formatCount(status.pending.length, 'pending migration')}`,
    );
    printMigrationTable(status.entries, out);
    // An edited or unknown migration makes `up` refuse; status says so with the same coded error.
    if (status.edited.length || status.unknown.length) assertMigratable(db);
    return ExitCode.OK;
  } finally {
    closeDatabase(db);
  }
}

function migrateUp(file: string, out: (line?: string) => void): number {
  out(`database: ${file}`);
  // Refusals are checked on a handle that cannot change anything, so a refused run leaves the file untouched.
  const existed = existsSync(file);
  if (existed) {
    const reader = openDatabaseForReading(file);
    try {
      assertMigratable(reader);
    } finally {
      closeDatabase(reader);
    }
  }
  const db = openDatabase(file);
  try {
    let failure: unknown;
    try {
      out(formatMigrationRun(applyPendingMigrations(db)));
    } catch (error) {
      failure = error;
    }
    printMigrationTable(getMigrationStatus(db).entries, out);
    if (failure !== undefined) {
      if (isDhashError(failure, 'EMIGRATIONFAILED')) out(MIGRATION_ROLLED_BACK_NOTE);
      throw failure;
    }
    return ExitCode.OK;
  } finally {
    const isStillEmpty = !existed && getSchemaVersion(db) === 0;
    closeDatabase(db);
    // A database this run created but could not migrate is removed, so a failed run leaves nothing behind.
    if (isStillEmpty) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
}

function printMigrationTable(rows: MigrationTableRow[], out: (line?: string) => void): void {
  formatMigrationTable(rows).forEach((line) => out(line));
}
