// `dhash hash FILE... [--mode exact|fast]`: sha256sum-style `<hash>  <file>` lines; bad files are named on stderr.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { hashImage, isHashMode, isImageInputError } from '../../service/hash/hash-image.js';

export const registerHash: RegisterCommand = (program, ctx, run) => {
  program
    .command('hash')
    .description('print the 64-bit difference hash (imagehash dhash) of each image as `<hash>  <file>`')
    .argument('<files...>', 'JPEG, PNG, GIF, WebP or TIFF files')
    .option(
      '--mode <mode>',
      'exact (bit-for-bit equal to Python imagehash) or fast (within a few bits, quicker)',
      'exact',
    )
    .addHelpText(
      'after',
      '\nA file that cannot be read or decoded is named on stderr with the reason; ' +
        'the others are still hashed and the exit code is 1.',
    )
    .action(
      run(async (files: string[], opts: { mode: string }) => {
        const mode = opts.mode;
        if (!isHashMode(mode))
          throw createError('EINVALIDOPTION', { option: '--mode', expected: 'exact or fast', actual: mode });
        let failures = 0;
        // One at a time, in argument order: output order must match the command line, like sha256sum.
        for (const file of files) {
          const reason = await hashOneFile(resolve(ctx.cwd, file), mode).then(
            (hash) => {
              ctx.stdout.write(`${hash}  ${file}\n`);
              return undefined;
            },
            (error: unknown) => describeFailure(error),
          );
          if (reason !== undefined) {
            failures++;
            ctx.stderr.write(`dhash: ${file}: ${reason}\n`);
          }
        }
        return failures === 0 ? ExitCode.OK : ExitCode.FAILED;
      }),
    );
};

async function hashOneFile(path: string, mode: 'exact' | 'fast'): Promise<string> {
  const bytes = await readFile(path);
  return (await hashImage(bytes, { mode })).hash;
}

function describeFailure(error: unknown): string {
  if (isImageInputError(error)) return `${error.message} (${error.code})`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not an image file';
  if (code === 'EACCES') return 'permission denied';
  // Anything else is unexpected: still report it per file rather than abort the whole run.
  return `cannot hash: ${error instanceof Error ? error.message : String(error)}`;
}
