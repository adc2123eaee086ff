// Premerge as data: type-check, lint, tests, then real dry-runs, a real guarded deploy and its evidence on a throwaway
// environment.
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { resolveEnvironment } from '../config/environments.js';
import { createTargetDriver } from '../target/index.js';
import { listArtifactFiles } from './artifact-manifest.js';
import { checkLogFile, formatLogChecks } from './check-log-lines.js';
import { runLoggedCommand } from './run-logged-command.js';
import { createThrowawayEnvironment, type ThrowawayEnvironment } from './throwaway-environment.js';
import type { PipelineDefinition, Step } from '../pipeline/types.js';

export interface PremergeContext {
  repoRoot: string;
  artifactsDir: string;
  nodePath: string;
  clock: Clock;
  logger: Logger;
  out: Writable;
  isSkipTests: boolean;
  windowSeconds: number;
  /** The environment of every child: the caller's, plus fake secrets that must never appear in any log. */
  childEnv: Record<string, string | undefined>;
  fakeSecrets: string[];
  throwaway?: ThrowawayEnvironment;
}

const bin = (c: PremergeContext, rel: string) => join(c.repoRoot, 'node_modules', rel);

/** The log a step without its own artifact log writes to: the premerge command's (src/cli/commands/premerge.ts). */
const PREMERGE_LOG = 'logs/premerge.log';

async function runCommandInto(c: PremergeContext, step: string, log: string, command: { args: string[]; cwd: string }) {
  const code = await runLoggedCommand({
    command: c.nodePath,
    args: command.args,
    cwd: command.cwd,
    processEnv: c.childEnv,
    logFile: join(c.artifactsDir, log),
  });
  if (code !== 0)
    throw createError('EPREMERGESTEPFAILED', {
      step,
      reason: `its command exited ${code}`,
      logFile: `premerge_artifacts/${log}`,
    });
  return { status: 'succeeded' as const, summary: `premerge_artifacts/${log}` };
}

/** A step that runs one real command into an artifact log and fails on a non-zero exit. */
function commandStep(
  name: string,
  description: string,
  log: string,
  argsOf: (c: PremergeContext) => { args: string[]; cwd: string },
): Step<PremergeContext> {
  return {
    name,
    description,
    isRequired: true,
    runsInDryRun: true,
    run: (c) => runCommandInto(c, name, log, argsOf(c)),
  };
}

/**
 * Any other failure of a step (a file operation, a free port) also reaches the operator as a coded error naming the
 * step.
 */
function withCodedFailure(step: Step<PremergeContext>): Step<PremergeContext> {
  return {
    ...step,
    async run(c) {
      try {
        return await step.run(c);
      } catch (error) {
        if (isDhashError(error)) throw error;
        throw createError(
          'EPREMERGESTEPFAILED',
          { step: step.name, reason: error instanceof Error ? error.message : String(error), logFile: PREMERGE_LOG },
          error,
        );
      }
    },
  };
}

const cli = (c: PremergeContext, ...args: string[]) => ({
  args: [join(c.repoRoot, 'dist/cli/main.js'), ...args],
  cwd: c.throwaway!.root,
});

export function createPremergePipeline(): PipelineDefinition<PremergeContext> {
  return {
    name: 'premerge',
    steps: (
      [
        commandStep('check:typecheck', 'tsc --noEmit over src, test and bench', 'typecheck.log', (c) => ({
          args: [bin(c, 'typescript/bin/tsc'), '--noEmit', '-p', c.repoRoot],
          cwd: c.repoRoot,
        })),
        commandStep('check:lint', 'eslint over the repository', 'lint.log', (c) => ({
          args: [bin(c, 'eslint/bin/eslint.js'), '.'],
          cwd: c.repoRoot,
        })),
        commandStep('check:format', 'prettier --check (print width 120)', 'format.log', (c) => ({
          args: [bin(c, 'prettier/bin/prettier.cjs'), '--check', '.'],
          cwd: c.repoRoot,
        })),
        commandStep('check:cycles', 'no load-time import cycle (dpdm, the lint:cycles script)', 'cycles.log', (c) => ({
          args: [join(c.repoRoot, 'scripts', 'check-cycles.mjs')],
          cwd: c.repoRoot,
        })),
        {
          name: 'check:tests',
          description: 'unit and integration suites (node test/run-tests.mjs all)',
          isRequired: true,
          runsInDryRun: true,
          async run(c) {
            if (c.isSkipTests) return { status: 'skipped', reason: '--skip-tests' };
            return runCommandInto(c, 'check:tests', 'tests.log', {
              args: [join(c.repoRoot, 'test/run-tests.mjs'), 'all'],
              cwd: c.repoRoot,
            });
          },
        },
        commandStep('build:dist', 'compile the toolkit and service into dist/', 'build.log', (c) => ({
          args: [bin(c, 'typescript/bin/tsc'), '-p', join(c.repoRoot, 'tsconfig.build.json')],
          cwd: c.repoRoot,
        })),
        {
          name: 'env:create',
          description: `a throwaway project root (local on a free port, short monitor window)`,
          isRequired: true,
          runsInDryRun: true,
          async run(c) {
            c.throwaway = await createThrowawayEnvironment(c.repoRoot, { windowSeconds: c.windowSeconds });
            return { status: 'succeeded', summary: `${c.throwaway.root} (port ${c.throwaway.port})` };
          },
        },
        commandStep('deploy:dry-run', 'dhash deploy --env local --dry-run', 'deploy-dryrun.log', (c) =>
          cli(c, 'deploy', '--env', 'local', '--dry-run'),
        ),
        commandStep('migrate:dry-run', 'dhash migrate --env local --dry-run', 'migrate-dryrun.log', (c) =>
          cli(c, 'migrate', '--env', 'local', '--dry-run'),
        ),
        commandStep(
          'deploy:guarded',
          'dhash quick-deploy --env local --follow: a real deploy, smoke tests and the short monitor',
          'quick-deploy.log',
          (c) => cli(c, 'quick-deploy', '--env', 'local', '--follow'),
        ),
        commandStep(
          'smoke:post-deploy',
          'dhash smoke --env local against the deployed service',
          'postdeploy-smoketests.log',
          (c) => cli(c, 'smoke', '--env', 'local'),
        ),
        commandStep('backup:dry-run', 'dhash backup create --env local --dry-run', 'backup-dryrun.log', (c) =>
          cli(c, 'backup', 'create', '--env', 'local', '--dry-run'),
        ),
        {
          name: 'backup:create',
          description: 'dhash backup create --env local, then copy the zip and its .sha256',
          isRequired: true,
          runsInDryRun: true,
          async run(c) {
            await runCommandInto(c, 'backup:create', 'backup.log', cli(c, 'backup', 'create', '--env', 'local'));
            // Same relative layout as the project root, so `sha256sum -c backups/<zip>.sha256` passes inside
            // premerge_artifacts/.
            await cp(join(c.throwaway!.root, 'backups'), join(c.artifactsDir, 'backups'), { recursive: true });
            const zips = (await readdir(join(c.artifactsDir, 'backups'))).filter((f) => f.endsWith('.zip'));
            return { status: 'succeeded', summary: `premerge_artifacts/backups/${zips.join(', ')}` };
          },
        },
        {
          name: 'monitor:collect',
          description: 'copy monitor_logs/ (poll lines, summary, HTML report) and notifications_out/',
          isRequired: true,
          runsInDryRun: true,
          async run(c) {
            const root = c.throwaway!.root;
            if (!existsSync(join(root, 'monitor_logs'))) {
              throw createError('EPREMERGESTEPFAILED', {
                step: 'monitor:collect',
                reason: 'the deploy left no monitor_logs/',
                logFile: 'premerge_artifacts/quick-deploy.log',
              });
            }
            await cp(join(root, 'monitor_logs'), join(c.artifactsDir, 'monitor_logs'), { recursive: true });
            if (existsSync(join(root, 'notifications_out')))
              await cp(join(root, 'notifications_out'), join(c.artifactsDir, 'notifications_out'), { recursive: true });
            return {
              status: 'succeeded',
              summary: `${(await readdir(join(c.artifactsDir, 'monitor_logs'))).length} files`,
            };
          },
        },
        {
          name: 'logging:check',
          description:
            "test_logging: every component's JSON log lines parse, carry time/level/component|msg, and hold no secret",
          isRequired: true,
          runsInDryRun: true,
          async run(c) {
            const logsDir = join(c.throwaway!.root, '.dhash', 'local', 'logs');
            const files = [
              ...(existsSync(logsDir)
                ? (await readdir(logsDir)).filter((f) => f.endsWith('.log')).map((f) => join(logsDir, f))
                : []),
              ...(await listArtifactFiles(c.artifactsDir))
                .filter((e) => /\.(log|json|jsonl|html|md)$/.test(e.path))
                .map((e) => join(c.artifactsDir, e.path)),
            ];
            const checks = await Promise.all(
              files.map((f) => checkLogFile(f, c.fakeSecrets, { isSecretScanOnly: !f.endsWith('.log') })),
            );
            const text = formatLogChecks(checks, (f) =>
              f.startsWith(logsDir)
                ? `<env root>/logs/${f.slice(logsDir.length + 1)}`
                : f.slice(c.artifactsDir.length + 1),
            );
            await writeFile(
              join(c.artifactsDir, 'test_logging.log'),
              `fake secrets set for this run: ${c.fakeSecrets.length} values ` +
                '(SLACK_WEBHOOK, TEAMS_WEBHOOK, DISCORD_WEBHOOK, EMAIL_PASSWORD); ' +
                `none may appear\n${text}`,
            );
            const failed = checks.filter((x) => x.problems.length > 0);
            if (failed.length > 0) {
              throw createError('EPREMERGESTEPFAILED', {
                step: 'logging:check',
                reason: `${failed.length} log file(s) failed the checks`,
                logFile: 'premerge_artifacts/test_logging.log',
              });
            }
            return {
              status: 'succeeded',
              summary: `${checks.length} files, ${checks.reduce((n, x) => n + x.jsonLines, 0)} JSON lines`,
            };
          },
        },
      ] satisfies Step<PremergeContext>[]
    ).map(withCodedFailure),
    hooks: [
      {
        name: 'artifacts:clean',
        description: 'empty premerge_artifacts/',
        placement: { on: 'before', step: 'check:typecheck' },
        runsInDryRun: true,
        run: async (c) =>
          void (
            await rm(c.artifactsDir, { recursive: true, force: true }),
            await mkdir(c.artifactsDir, { recursive: true })
          ),
      },
      {
        name: 'env:stop',
        description: 'stop the throwaway service and remove its root',
        placement: { on: 'succeeded' },
        runsInDryRun: true,
        run: (c) => stopThrowaway(c, { isRemoving: true }),
      },
      {
        name: 'artifacts:manifest',
        description: "write premerge_artifacts/manifest.json with every file's sha256",
        placement: { on: 'succeeded' },
        runsInDryRun: true,
        run: writeManifest,
      },
      {
        name: 'env:stop-after-failure',
        description: 'stop the throwaway service (its root is kept for inspection)',
        placement: { on: 'failed' },
        runsInDryRun: true,
        run: (c) => stopThrowaway(c, { isRemoving: false }),
      },
      {
        name: 'artifacts:manifest-after-failure',
        description: 'list what was collected before the failure',
        placement: { on: 'failed' },
        runsInDryRun: true,
        run: writeManifest,
      },
    ],
  };
}

async function stopThrowaway(c: PremergeContext, options: { isRemoving: boolean }) {
  if (!c.throwaway) return { status: 'skipped' as const, reason: 'no throwaway environment was created' };
  const environment = await resolveEnvironment(c.throwaway.root, 'local', {});
  const driver = createTargetDriver(environment, { clock: c.clock, logger: c.logger.child('target') });
  await driver.stop();
  if (!options.isRemoving)
    return { status: 'succeeded' as const, summary: `stopped; ${c.throwaway.root} kept for inspection` };
  await rm(c.throwaway.root, { recursive: true, force: true });
  return { status: 'succeeded' as const, summary: `stopped and removed ${c.throwaway.root}` };
}

async function writeManifest(c: PremergeContext) {
  const files = await listArtifactFiles(c.artifactsDir);
  await writeFile(
    join(c.artifactsDir, 'manifest.json'),
    JSON.stringify({ formatVersion: 1, createdAt: new Date(c.clock.now()).toISOString(), files }, null, 2) + '\n',
  );
  return { status: 'succeeded' as const, summary: `${files.length} files` };
}
