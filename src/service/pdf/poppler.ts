// Runs poppler's `pdfimages` with a hard timeout, parses its `-list` table, and reports whether it is installed.
import { execFile } from 'node:child_process';
import { PdfInputError } from './pdf-input-error.js';

export const DEFAULT_PDFIMAGES_COMMAND = 'pdfimages';
const INSTALL_HINT = 'install the Debian package `poppler-utils` (apt-get install poppler-utils)';
/** pdfimages prints one line per image; a pathological PDF must not fill memory with its stderr either. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface PdfImageListing {
  page: number;
  /** pdfimages' document-wide image number; the extracted file names carry it. */
  num: number;
  /** `image`, `smask`, `mask` or `stencil`: only `image` is a picture a viewer shows. */
  type: string;
  width: number;
  height: number;
  color: string;
  bitsPerComponent: number;
  encoding: string;
}

export interface PdfCapability {
  status: 'ok' | 'unavailable';
  version?: string;
  reason?: string;
}

/**
 * Runs `pdfimages` and resolves with stdout. Kills the process (SIGKILL) when `timeoutMs` passes
 * (what is left of the caller's `budgetMs`, which the message names);
 * a missing binary becomes EPDFUNAVAILABLE, a timeout EPDFTIMEOUT, any other failure EBADPDF.
 */
export function runPdfimages(
  command: string,
  args: string[],
  timeoutMs: number,
  budgetMs = timeoutMs,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (failure.code === 'ENOENT') {
          return reject(
            new PdfInputError(
              'EPDFUNAVAILABLE',
              `PDF extraction needs poppler's \`${command}\`, which is not installed: ${INSTALL_HINT}.`,
              error,
            ),
          );
        }
        if (failure.killed || failure.signal === 'SIGKILL') {
          return reject(
            new PdfInputError(
              'EPDFTIMEOUT',
              `Extracting images from the PDF took longer than ${budgetMs} ms and was stopped.`,
              error,
            ),
          );
        }
        const reason = firstLine(stderr) ?? failure.message;
        reject(new PdfInputError('EBADPDF', `The PDF could not be read: ${reason}.`, error));
      },
    );
  });
}

/** Parses `pdfimages -list` output (two header lines, then whitespace-separated columns). */
export function parsePdfimagesList(text: string): PdfImageListing[] {
  const rows: PdfImageListing[] = [];
  for (const line of text.split('\n').slice(2)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 9 || !/^\d+$/.test(cols[0])) continue;
    rows.push({
      page: Number(cols[0]),
      num: Number(cols[1]),
      type: cols[2],
      width: Number(cols[3]),
      height: Number(cols[4]),
      color: cols[5],
      bitsPerComponent: Number(cols[7]),
      encoding: cols[8],
    });
  }
  return rows;
}

const capabilityCache = new Map<string, Promise<PdfCapability>>();

/** Whether PDF extraction can work on this host; cached per command. /health reports it without failing. */
export function getPdfCapability(command = DEFAULT_PDFIMAGES_COMMAND): Promise<PdfCapability> {
  let cached = capabilityCache.get(command);
  if (!cached) {
    cached = new Promise<PdfCapability>((resolve) => {
      execFile(command, ['-v'], { timeout: 5000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
        const version = /pdfimages version (\S+)/.exec(`${stdout}${stderr}`)?.[1];
        // Old pdfimages print the version and exit 99 for -v; only a missing binary means unavailable.
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve({ status: 'unavailable', reason: `\`${command}\` not found: ${INSTALL_HINT}` });
        } else if (version || !error) {
          resolve({ status: 'ok', version });
        } else {
          resolve({ status: 'unavailable', reason: `\`${command} -v\` failed: ${error.message}` });
        }
      });
    });
    capabilityCache.set(command, cached);
  }
  return cached;
}

function firstLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ? line.replace(/\.$/, '') : undefined;
}
