// `dhash backup [create] --env E [--dry-run]`, `backup verify FILE [--env E]`,
// `backup list --env E`, `backup prune --env E [--keep N]`.
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { createRedactor } from '../../lib/redact.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createJsonLogger, createSilentLogger } from '../../lib/logger.js';
import {
  createBackup,
  createBackupRefusal,
  listBackups,
  pruneBackups,
  verifyBackup,
  type BackupPlan,
} from '../../rollout/backup/index.js';
import type { BackupManifest } from '../../rollout/core/backup-manifest.js';
import { createProgressReporter, formatBytes } from '../progress-reporter.js';

interface EnvOptions {
  env: string;
  verbose?: boolean;
}

export const registerBackup: RegisterCommand = (program, ctx, run) => {
  const backup = program
    .command('backup')
    .description(
      'verified backups of an environment: ' +
        'release + consistent database snapshot + config, as backups/dhash_<ts>_<env>.zip + .sha256',
    );
  const envOption = (cmd: Command) =>
    cmd
      .requiredOption('--env <name>', 'environment from environments.json')
      .option('--verbose', 'JSON log lines on stderr');

  envOption(
    backup.command('create', { isDefault: true }).description('back up the environment (the default subcommand)'),
  )
    .option('--dry-run', 'print what would be backed up and the target name; write nothing')
    .option('--reason <text>', 'recorded in the manifest (manual, pre-deploy, pre-rollback…)', 'manual')
    .addHelpText(
      'after',
      '\nAn environment with no current release and no database (before the first deploy) ' +
        'has nothing to back up: exit 2 (dry-run: exit 0).',
    )
    .action(
      run(async (opts: EnvOptions & { dryRun?: boolean; reason: string }) => {
        const { projectRoot, env: environment, logger } = await prepare(ctx, opts);
        const show = (p: string) => relative(projectRoot, p) || p;
        if (opts.dryRun) {
          const { plan } = await createBackup(environment, {
            clock: ctx.clock,
            logger,
            isDryRun: true,
            reason: opts.reason,
            processEnv: ctx.processEnv,
          });
          ctx.stdout.write(formatPlan(plan, show));
          return ExitCode.OK;
        }
        const progress = createProgressReporter(ctx.stderr, { label: 'backup' });
        try {
          const made = await createBackup(environment, {
            clock: ctx.clock,
            logger,
            reason: opts.reason,
            processEnv: ctx.processEnv,
            onProgress: (p) => progress.update(p.phase, p.doneBytes, p.totalBytes),
          });
          progress.stop();
          const m = made.manifest;
          ctx.stdout.write(
            [
              `Backup of ${environment.name} written and verified in ${(made.durationMs / 1000).toFixed(1)} s:`,
              `  file:     ${show(made.file)} (${formatBytes(made.sizeBytes)})`,
              `  sha256:   ${made.sha256}`,
              `  checksum: ${show(made.sha256File)}`,
              `  release:  ${m.releaseId ?? 'none'}${m.version ? ` (${m.version})` : ''}, ` +
                `${m.entries.filter((e) => e.path.startsWith('release/')).length} files, ${m.symlinks.length} symlinks`,
              `  database: ${formatManifestDatabase(m)}`,
              `Check it: sha256sum -c ${show(made.sha256File)}`,
              '',
            ].join('\n'),
          );
          return ExitCode.OK;
        } finally {
          progress.stop();
        }
      }),
    );

  backup
    .command('verify <file>')
    .description(
      'check the zip against its .sha256, every entry against the ' +
        'manifest and its CRC-32, and entry names; exit 3 on any problem',
    )
    .option('--env <name>', 'refuse (exit 3) a backup of another environment')
    .action(
      run(async (file: string, opts: { env?: string }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const abs = resolve(ctx.cwd, file);
        if (opts.env) await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const result = await verifyBackup(abs, { expectedEnv: opts.env, projectRoot, processEnv: ctx.processEnv });
        if (!result.ok) {
          for (const p of result.problems) ctx.stdout.write(`  ✗ ${p.code} ${p.message}\n`);
          throw createBackupRefusal(abs, result, projectRoot);
        }
        const m = result.manifest!;
        ctx.stdout.write(
          `OK ${relative(projectRoot, abs)}: sha256 ${result.sha256}, ` +
            `${m.entries.length + 1} entries match the manifest and their CRC-32\n` +
            `  env ${m.env}, created ${m.createdAt}, release ${m.releaseId ?? 'none'}, ` +
            `schema version ${m.schemaVersion ?? 'none'}\n` +
            (m.engine === 'postgres' && m.database ? `  ${m.database}: pg_restore --list reads it\n` : ''),
        );
        return ExitCode.OK;
      }),
    );

  envOption(
    backup.command('list').description('backups of the environment, newest first, with their verification state'),
  )
    .option('--quick', 'do not read the backups (state `unchecked`)')
    .option('--json', 'print JSON')
    .action(
      run(async (opts: EnvOptions & { quick?: boolean; json?: boolean }) => {
        const { projectRoot, env: environment } = await prepare(ctx, opts);
        const listed = await listBackups(environment, { verify: !opts.quick });
        if (opts.json) {
          ctx.stdout.write(
            JSON.stringify(
              listed.map((l) => ({
                ...l,
                file: relative(projectRoot, l.file),
                sha256File: relative(projectRoot, l.sha256File),
              })),
              null,
              2,
            ) + '\n',
          );
          return ExitCode.OK;
        }
        if (listed.length === 0)
          ctx.stdout.write(
            `No backups of ${environment.name} in ` +
              `${relative(projectRoot, environment.backupsDir) || environment.backupsDir}.\n`,
          );
        for (const l of listed) {
          const why = l.problems.length ? `  ${l.problems[0]!.code}: ${l.problems[0]!.message}` : '';
          ctx.stdout.write(
            `${l.state.padEnd(9)} ${relative(projectRoot, l.file)}  ${formatBytes(l.sizeBytes)}${why}\n`,
          );
        }
        return ExitCode.OK;
      }),
    );

  envOption(
    backup
      .command('prune')
      .description('retention: keep the N newest verified backups, delete older ones; never the last verified one'),
  )
    .option('--keep <n>', 'how many verified backups to keep (default: backups.keep of the environment)')
    .option('--dry-run', 'print what would be deleted; delete nothing')
    .action(
      run(async (opts: EnvOptions & { keep?: string; dryRun?: boolean }) => {
        const { projectRoot, env: environment } = await prepare(ctx, opts);
        const keep = opts.keep === undefined ? environment.config.backups.keep : Number(opts.keep);
        if (!Number.isInteger(keep) || keep < 1)
          throw createError('EINVALIDOPTION', {
            option: '--keep',
            expected: 'a whole number of at least 1',
            actual: opts.keep,
          });
        const result = await pruneBackups(environment, { keep, isDryRun: opts.dryRun });
        const show = (f: string) => relative(projectRoot, f);
        for (const l of result.kept) ctx.stdout.write(`keep     ${show(l.file)} (verified)\n`);
        for (const l of result.keptUnverified)
          ctx.stdout.write(
            `keep     ${show(l.file)} (FAILED verification: ${l.problems[0]?.code}; left for inspection)\n`,
          );
        for (const l of result.deleted)
          ctx.stdout.write(`${opts.dryRun ? 'would delete' : 'deleted '} ${show(l.file)} + .sha256\n`);
        if (result.kept.length < keep)
          ctx.stdout.write(
            `Only ${result.kept.length} verified backup(s), fewer than --keep ${keep}: nothing deleted.\n`,
          );
        if (opts.dryRun) ctx.stdout.write('Dry run: nothing was deleted.\n');
        return ExitCode.OK;
      }),
    );
};

async function prepare(ctx: CliContext, opts: EnvOptions) {
  const projectRoot = findProjectRoot(ctx.cwd);
  const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
  const logger = opts.verbose
    ? createJsonLogger({
        clock: ctx.clock,
        redact: createRedactor(ctx.processEnv),
        streams: [ctx.stderr],
        component: 'dhash',
      })
    : createSilentLogger();
  return { projectRoot, env: environment, logger };
}

/** The created backup's database line: engine, schema version, and for PostgreSQL the dump and its row counts. */
function formatManifestDatabase(m: BackupManifest): string {
  if (!m.database) return 'none';
  if (m.engine !== 'postgres' || !m.postgres) return `schema version ${m.schemaVersion}`;
  const counts = Object.entries(m.postgres.rowCounts)
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  return (
    `PostgreSQL ${m.postgres.serverVersion} database ${m.postgres.database}, schema version ${m.schemaVersion}, ` +
    `change log seq ${m.changeLogSeq ?? 0}; ${m.database} (${counts || 'no service tables'})`
  );
}

function formatPlan(plan: BackupPlan, show: (p: string) => string): string {
  if (plan.isNothingToBackUp) {
    return (
      `Dry run: nothing to back up in ${plan.env} yet (no current release and no database; first deploy). ` +
      'Nothing was written.\n'
    );
  }
  const r = plan.release;
  const releaseText = r
    ? `${r.releaseId ?? '(no release.json)'}${r.version ? ` (${r.version})` : ''} from ${show(r.dir)}: ` +
      `${r.fileCount} files, ${r.symlinkCount} symlinks, ${formatBytes(r.sizeBytes)}`
    : 'none (no current release)';
  const d = plan.database;
  const databaseText = !d
    ? 'none'
    : d.engine === 'postgres'
      ? `PostgreSQL ${d.file} (${formatBytes(d.sizeBytes)}), pg_dump --format=custom in one snapshot`
      : `${show(d.file)} (${formatBytes(d.sizeBytes)}), snapshot through SQLite's online backup API`;
  return [
    `Dry run: would back up ${plan.env} into ${show(plan.file)} (+ .sha256); nothing was written.`,
    `  release:  ${releaseText}`,
    `  database: ${databaseText}`,
    `  config:   ${plan.config.join(', ')}`,
    `  total:    ${formatBytes(plan.totalBytes)} to read; the zip is verified before it gets its name`,
    '',
  ].join('\n');
}
