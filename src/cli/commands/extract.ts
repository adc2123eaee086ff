// `dhash extract FILE.pdf`: the hash of every raster image in a PDF, one `<hash>  page <p> image <i>` line each.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createError } from '../../lib/errors.js';
import { isHashMode } from '../../service/hash/hash-image.js';
import { isServiceInputError } from '../../service/input-error.js';
import { extractPdfImages } from '../../service/pdf/index.js';
import { DEFAULT_LIMITS } from '../../service/service-limits.js';

export const registerExtract: RegisterCommand = (program, ctx, run) => {
  program
    .command('extract')
    .description(
      'hash every raster image embedded in a PDF (needs poppler-utils), printing `<hash>  page <p> image <i>` lines',
    )
    .argument('<file>', 'the PDF file')
    .option('--mode <mode>', 'exact (Pillow-identical) or fast', 'exact')
    .option('--timeout-ms <ms>', 'stop poppler after this long', String(DEFAULT_LIMITS.pdfTimeoutMs))
    .action(
      run(async (file: string, opts: { mode: string; timeoutMs: string }) => {
        if (!isHashMode(opts.mode))
          throw createError('EINVALIDOPTION', { option: '--mode', expected: 'exact or fast', actual: opts.mode });
        const timeoutMs = Number(opts.timeoutMs);
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
          throw createError('EINVALIDOPTION', {
            option: '--timeout-ms',
            expected: 'a positive integer',
            actual: opts.timeoutMs,
          });
        }
        let bytes: Buffer;
        try {
          bytes = await readFile(resolve(ctx.cwd, file));
        } catch (error) {
          ctx.stderr.write(`dhash: cannot read ${file}: ${(error as Error).message}\n`);
          return ExitCode.USAGE;
        }
        try {
          const images = await extractPdfImages(bytes, {
            maxPixels: DEFAULT_LIMITS.maxPixels,
            timeoutMs,
            mode: opts.mode,
          });
          for (const image of images) ctx.stdout.write(`${image.hash}  page ${image.page} image ${image.index}\n`);
          return ExitCode.OK;
        } catch (error) {
          // Bad input is the operation failing (exit 1); anything else is a bug and goes to runCli's handler.
          if (!isServiceInputError(error)) throw error;
          ctx.stderr.write(`dhash: ${file}: ${error.message} (${error.code})\n`);
          return ExitCode.FAILED;
        }
      }),
    );
};
