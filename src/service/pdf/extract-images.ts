// Hashes every raster image a PDF shows, via `pdfimages` in a private temp folder that is always removed.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashImage } from '../hash/hash-image.js';
import { PdfInputError } from './pdf-input-error.js';
import { DEFAULT_PDFIMAGES_COMMAND, parsePdfimagesList, runPdfimages, type PdfImageListing } from './poppler.js';

export interface PdfImageHash {
  page: number;
  /** 1-based position among the raster images drawn on that page, in drawing order. */
  index: number;
  width: number;
  height: number;
  hash: string;
  colorSpace: string;
}

export interface ExtractPdfOptions {
  /** Per-image pixel limit, checked from the PDF's own dimensions before anything is decoded. */
  maxPixels: number;
  /**
   * Pixel budget over all images of one PDF (default 10 × maxPixels): every image is decoded to a PNG on disk,
   * so a PDF of many just-under-the-limit images must not fill the temp folder.
   */
  maxTotalPixels?: number;
  /** Budget for all poppler work on this PDF; the process is killed when it runs out. */
  timeoutMs: number;
  mode?: 'exact' | 'fast';
  /** Told about every image hashing attempt, so the service can count them (seconds for successes). */
  onAttempt?: (outcome: 'success' | 'failure', durationSeconds?: number) => void;
  /** The pdfimages binary; tests point it at a missing path. */
  pdfimagesCommand?: string;
  /** Where the private temp folder is made (default the OS temp dir); tests check it is left empty. */
  tempParentDir?: string;
}

const PDF_MAGIC = Buffer.from('%PDF-');
const EXTRACTED_NAME = /^img-(\d+)-(\d+)\.png$/;

export async function extractPdfImages(bytes: Uint8Array, options: ExtractPdfOptions): Promise<PdfImageHash[]> {
  // The spec lets a header sit within the first 1024 bytes; anything else is not a PDF at all.
  if (Buffer.from(bytes.subarray(0, 1024)).indexOf(PDF_MAGIC) === -1) {
    throw new PdfInputError('EBADPDF', 'The input is not a PDF (no %PDF- header in its first 1024 bytes).');
  }
  const command = options.pdfimagesCommand ?? DEFAULT_PDFIMAGES_COMMAND;
  const deadline = performance.now() + options.timeoutMs;
  const remainingMs = () => Math.max(1, Math.round(deadline - performance.now()));
  const dir = await mkdtemp(join(options.tempParentDir ?? tmpdir(), 'dhash-pdf-'));
  try {
    const pdfFile = join(dir, 'input.pdf');
    await writeFile(pdfFile, bytes);
    const listing = parsePdfimagesList(
      await runPdfimages(command, ['-list', pdfFile], remainingMs(), options.timeoutMs),
    );
    // Soft masks, explicit masks and stencils are parts of a picture, not pictures a viewer shows.
    const images = listing.filter((row) => row.type === 'image');
    assertWithinPixelLimits(images, options.maxPixels, options.maxTotalPixels ?? 10 * options.maxPixels);
    if (images.length === 0) return [];
    // -png decodes every image through poppler's colour map: colour spaces and Decode arrays are applied
    // (as the viewer shows it), unlike -j/-all, which copy JPEG streams untouched.
    await runPdfimages(command, ['-png', '-p', pdfFile, join(dir, 'img')], remainingMs(), options.timeoutMs);
    const files = await indexExtractedFiles(dir);
    return await hashListedImages(images, files, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function assertWithinPixelLimits(images: PdfImageListing[], maxPixels: number, maxTotalPixels: number): void {
  const tooBig = images.find((row) => row.width * row.height > maxPixels);
  if (tooBig) {
    throw new PdfInputError(
      'ETOOMANYPIXELS',
      `The PDF's image ${tooBig.num} on page ${tooBig.page} has ` +
        `${tooBig.width}×${tooBig.height} pixels, over the limit of ${maxPixels}.`,
    );
  }
  const totalPixels = images.reduce((sum, row) => sum + row.width * row.height, 0);
  if (totalPixels > maxTotalPixels) {
    throw new PdfInputError(
      'ETOOMANYPIXELS',
      `The PDF's ${images.length} images have ${totalPixels} pixels in all, over the limit of ${maxTotalPixels}.`,
    );
  }
}

async function indexExtractedFiles(dir: string): Promise<Map<number, string>> {
  const byNum = new Map<number, string>();
  for (const name of await readdir(dir)) {
    const match = EXTRACTED_NAME.exec(name);
    if (match) byNum.set(Number(match[2]), join(dir, name));
  }
  return byNum;
}

async function hashListedImages(
  images: PdfImageListing[],
  files: Map<number, string>,
  options: ExtractPdfOptions,
): Promise<PdfImageHash[]> {
  const results: PdfImageHash[] = [];
  const perPage = new Map<number, number>();
  for (const row of images) {
    const index = (perPage.get(row.page) ?? 0) + 1;
    perPage.set(row.page, index);
    const file = files.get(row.num);
    const started = performance.now();
    try {
      if (!file)
        throw new PdfInputError(
          'EBADPDF',
          `pdfimages listed image ${row.num} on page ${row.page} but could not decode it.`,
        );
      const hashed = await hashImage(await readFile(file), {
        mode: options.mode ?? 'exact',
        maxPixels: options.maxPixels,
      });
      options.onAttempt?.('success', (performance.now() - started) / 1000);
      results.push({
        page: row.page,
        index,
        width: hashed.width,
        height: hashed.height,
        hash: hashed.hash,
        colorSpace: row.color,
      });
    } catch (error) {
      options.onAttempt?.('failure');
      throw error;
    }
  }
  return results;
}
