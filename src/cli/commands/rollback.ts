// `dhash rollback --backup FILE --env E [--carry-forward] [--force] [--dry-run]`:
// restore release, database and config from a verified backup. A fleet (`--env E` alone): every host back to its
// previous release (src/rollout/fleet/manual-rollback-fleet.ts).
import { createInterface } from 'node:readline/promises';
import type { RegisterCommand } from '../context.js';
import { createCommandOutputs, formatOutcomeLine } from '../command-outputs.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createRedactor } from '../../lib/redact.js';
import { rollbackFromBackup } from '../../rollout/rollback/rollback-from-backup.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createLineWriter } from '../line-writer.js';
import { createError } from '../../lib/errors.js';

interface RollbackCliOptions {
  backup?: string;
  env: string;
  force?: boolean;
  dryRun?: boolean;
  carryForward?: boolean;
}

export const registerRollback: RegisterCommand = (program, ctx, run) => {
  program
    .command('rollback')
    .description(
      'verify a backup, snapshot the current state, ' +
        "then restore the backup's release, database and config and verify the service; " +
        'a fleet (no --backup): every host back to its previous release, verified healthy',
    )
    .option(
      '--backup <file>',
      'the backup zip (its .sha256 must sit beside it); a fleet takes none: each host returns to its previous release',
    )
    .requiredOption('--env <name>', "environment to restore; must match the backup's (a fleet: the fleet to roll back)")
    .option(
      '--carry-forward',
      'after restoring, re-apply the library and review changes users made since the backup (from the change log)',
    )
    .option('--force', 'skip the interactive confirmation (every check still runs)')
    .option('--dry-run', 'verify the backup and print the plan; change nothing')
    .action(
      run(async (opts: RollbackCliOptions) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const redact = createRedactor(ctx.processEnv);
        const out = createLineWriter(ctx, redact);
        const stdin = ctx.stdin;
        const confirm = stdin?.isTTY
          ? async (question: string) => {
              const rl = createInterface({ input: stdin, output: ctx.stdout });
              try {
                return /^y(es)?$/i.test((await rl.question(question)).trim());
              } finally {
                rl.close();
              }
            }
          : undefined;
        const { log, notifier } = createCommandOutputs(ctx, {
          projectRoot,
          environment,
          component: 'rollback',
          redact,
          isDryRun: Boolean(opts.dryRun),
        });
        try {
          if (environment.config.target.type === 'ssh') {
            // A fleet: switch-back of every host over ssh, loaded only when an environment is one.
            if (opts.backup || opts.carryForward) throw createError('EFLEETHASNODRIVER', { env: environment.name });
            const { rollBackFleetManually } = await import('../../rollout/fleet/manual-rollback-fleet.js');
            const fleet = await rollBackFleetManually({
              environment,
              isDryRun: Boolean(opts.dryRun),
              force: Boolean(opts.force),
              confirm,
              clock: ctx.clock,
              logger: log.logger,
              notifier,
              redact,
              processEnv: ctx.processEnv,
              signal: ctx.signal,
              onProgress: out,
            });
            out(formatOutcomeLine(fleet));
            return fleet.exitCode;
          }
          if (!opts.backup)
            throw createError('EINVALIDOPTION', {
              option: '--backup',
              expected: `a backup zip (\`${environment.name}\` is one machine: it is restored from a backup)`,
              actual: undefined,
            });
          const result = await rollbackFromBackup({
            environment,
            backupFile: opts.backup,
            force: Boolean(opts.force),
            isDryRun: Boolean(opts.dryRun),
            isCarryForward: Boolean(opts.carryForward),
            clock: ctx.clock,
            logger: log.logger,
            notifier,
            confirm,
            processEnv: ctx.processEnv,
            signal: ctx.signal,
            onProgress: out,
          });
          out(formatOutcomeLine(result));
          for (const c of result.carryForward?.carried ?? []) out(`  carried forward #${c.seq} ${c.summary}`);
          for (const c of result.carryForward?.notCarried ?? [])
            out(`  NOT carried forward #${c.seq} ${c.summary}: ${c.reason}`);
          return result.ok ? ExitCode.OK : ExitCode.HUMAN_NEEDED;
        } finally {
          await log.close();
        }
      }),
    );
};
