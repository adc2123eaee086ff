// `dhash release build [--out DIR]`:
// package the checkout as a relocatable release directory plus a .tar.gz and its sha256.
import { resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { buildRelease } from '../../rollout/release/build-release.js';
import { findProjectRoot } from '../../lib/project-paths.js';

export const registerRelease: RegisterCommand = (program, ctx, run) => {
  const release = program.command('release').description('build deployable releases');
  release
    .command('build')
    .description(
      'copy dist/, package files and the production node_modules ' +
        'into <out>/<releaseId>/ and write <releaseId>.tar.gz + .sha256',
    )
    .option('--out <dir>', 'output folder (default .dhash/artifacts)')
    .option('--no-artifact', 'write only the release directory, no .tar.gz')
    .action(
      run(async (opts: { out?: string; artifact: boolean }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const built = await buildRelease({
          projectRoot,
          outDir: opts.out ? resolve(ctx.cwd, opts.out) : undefined,
          clock: ctx.clock,
          createArtifact: opts.artifact,
        });
        ctx.stdout.write(`release ${built.releaseId} built in ${built.durationMs} ms\n  dir:      ${built.dir}\n`);
        if (built.artifact) ctx.stdout.write(`  artifact: ${built.artifact}\n  sha256:   ${built.sha256}\n`);
        ctx.stdout.write(
          `  content:  ${built.manifest.contentSha256}\ndeploy it with: ` +
            `./scripts/deploy_dhash.sh --env <env> --release ${built.artifact ?? built.dir}\n`,
        );
        return ExitCode.OK;
      }),
    );
};
