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
  type MigrationDryRunReport,
  type MigrationStatus,
} from '../../service/store/index.js';
import { createLineWriter } from '../line-writer.js';
import {
  applyLocationMigrations,
  dryRunLocationMigrations,
  getMigrationLocation,
  readMigrationStatus,
  type MigrationLocation,
} from '../../rollout/deploy/environment-migrations.js';
import { parsePostgresUrl, withPostgresClient } from '../../rollout/backup/postgres-connection.js';
import { assertPostgresMigratable, DATABASE_URL_ENV } from '../../service/store/postgres/index.js';

interface MigrateOptions {
  db?: string;
  env?: string;
  dryRun?: boolean;
}

const ACTIONS = ['status', 'up'] as const;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

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
        if (location.engine === 'postgres') return runOnPostgres(action, location, Boolean(opts.dryRun), out);
        const file = location.file;

        if (action === 'status') return printStatus(file, out);
        if (opts.dryRun) {
          const report = await dryRunMigrationsOnFile(file);
          printDryRun(report, out);
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

/** status, up and --dry-run on PostgreSQL: the same output as on a file, the URL shown without its password. */
async function runOnPostgres(
  action: string,
  location: Extract<MigrationLocation, { engine: 'postgres' }>,
  isDryRun: boolean,
  out: (line?: string) => void,
): Promise<number> {
  if (action === 'status' || !isDryRun) out(`database: ${location.target.safeUrl}`);
  if (action === 'status') {
    const status = await readMigrationStatus(location);
    out(
      `schema version: ${status.currentVersion} (this release: ${status.latestVersion}); ` +
        `${plural(status.pending.length, 'pending migration')}`,
    );
    printTable(status.entries, out);
    if (status.edited.length || status.unknown.length)
      await withPostgresClient(location.target, (client) => assertPostgresMigratable(client));
    return ExitCode.OK;
  }
  if (isDryRun) {
    const report = await dryRunLocationMigrations(location);
    printDryRun(report, out);
    return report.ok ? ExitCode.OK : ExitCode.FAILED;
  }
  let failure: unknown;
  try {
    const report = await applyLocationMigrations(location);
    const appliedText = plural(report.applied.length, 'migration');
    out(
      report.applied.length
        ? `migrated schema version ${report.fromVersion} → ${report.toVersion} (${appliedText} applied)`
        : `schema version ${report.toVersion} is current; nothing to apply`,
    );
  } catch (error) {
    failure = error;
  }
  printTable((await readMigrationStatus(location)).entries, out);
  if (failure === undefined) return ExitCode.OK;
  if (isDhashError(failure, 'EMIGRATIONFAILED'))
    out('the failed migration was rolled back; the database is as it was before it');
  throw failure;
}

function printStatus(file: string, out: (line?: string) => void): number {
  out(`database: ${file}`);
  if (!existsSync(file)) {
    out(
      'database does not exist yet; ' +
        `${plural(MIGRATIONS.length, 'migration')} would create schema version ${LATEST_SCHEMA_VERSION}`,
    );
    printTable(
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
        `${plural(status.pending.length, 'pending migration')}`,
    );
    printTable(status.entries, out);
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
      const report = applyPendingMigrations(db);
      const appliedText = plural(report.applied.length, 'migration');
      out(
        report.applied.length
          ? `migrated schema version ${report.fromVersion} → ${report.toVersion} (${appliedText} applied)`
          : `schema version ${report.toVersion} is current; nothing to apply`,
      );
    } catch (error) {
      failure = error;
    }
    printTable(getMigrationStatus(db).entries, out);
    if (failure !== undefined) {
      if (isDhashError(failure, 'EMIGRATIONFAILED'))
        out('the failed migration was rolled back; the database is as it was before it');
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

function printTable(
  rows: Pick<MigrationStatus['entries'][number], 'version' | 'name' | 'state' | 'checksum'>[],
  out: (line?: string) => void,
): void {
  const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
  out(`${'VERSION'.padEnd(8)} ${'NAME'.padEnd(nameWidth)} ${'STATE'.padEnd(8)} CHECKSUM (sha256)`);
  for (const r of rows)
    out(
      `${String(r.version).padStart(3, '0').padEnd(8)} ${r.name.padEnd(nameWidth)} ${r.state.padEnd(8)} ${r.checksum}`,
    );
}

function printDryRun(report: MigrationDryRunReport, out: (line?: string) => void): void {
  out(`dry run: nothing is changed in ${report.file}`);
  const n = report.migrations.length;
  if (!report.databaseExists)
    out(`database does not exist yet; ${plural(n, 'migration')} would create schema version ${report.latestVersion}`);
  else if (n === 0) out(`schema version ${report.fromVersion} is current; nothing would be applied`);
  else
    out(
      `schema version ${report.fromVersion}; ` +
        `${plural(n, 'pending migration')} would bring it to ${report.latestVersion}`,
    );
  for (const m of report.migrations) {
    out(`${String(m.version).padStart(3, '0')} ${m.name}  sha256 ${m.checksum}`);
    for (const s of m.statements) {
      const objects = [
        ...s.created.map((o) => `created ${o}`),
        ...s.altered.map((o) => `altered ${o}`),
        ...s.dropped.map((o) => `dropped ${o}`),
      ];
      out(`    ${s.sql}`);
      out(`      → ${[...objects, plural(s.changes, 'row') + ' changed'].join('; ')}`);
    }
  }
  if (report.failure) {
    const f = report.failure;
    out(`FAILED: migration ${f.version} (${f.name}) at ${f.statement}: ${f.reason}`);
    out(`the real run would stop there and roll it back; resulting schema version ${report.toVersion}`);
  } else out(`resulting schema version: ${report.toVersion}`);
}
