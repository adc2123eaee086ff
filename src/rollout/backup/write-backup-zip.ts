// Streams backup sources into a zip with yazl, hashing every entry on the way and the whole file as it is written.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { MANIFEST_PATH, type BackupEntry, type BackupManifest } from '../core/backup-manifest.js';

export interface BackupSource {
  /** Path inside the zip (already validated by whoever built the list). */
  zipPath: string;
  /** A file on disk, streamed; or `data`, held in memory (small config files). */
  file?: string;
  data?: Buffer;
  sizeBytes: number;
  mode?: number;
  /** false = STORE (already-compressed or incompressible content). */
  isCompressed: boolean;
}

export interface WrittenZip {
  sha256: string;
  sizeBytes: number;
  manifest: BackupManifest;
}

/** A pass-through that hashes what flows through it. */
function createHashingStream(onBytes?: (n: number) => void): Transform & { digest(): string } {
  const hash = createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      cb(null, chunk);
    },
  }) as Transform & { digest(): string };
  stream.digest = () => hash.digest('hex');
  return stream;
}

/**
 * Writes `sources` then manifest.json (built by `createManifest` from the entry hashes, so every file is read once)
 * into the new file `tempFile` (created exclusively), fsyncs it and returns its sha256 and size.
 * The modification time of every entry is `mtime`: the same content gives the same entries.
 */
export async function writeBackupZip(
  tempFile: string,
  sources: readonly BackupSource[],
  options: {
    mtime: Date;
    compressionLevel: number;
    createManifest: (entries: BackupEntry[]) => BackupManifest;
    onBytes?: (n: number) => void;
  },
): Promise<WrittenZip> {
  const zip = new yazl.ZipFile();
  const outer = createHashingStream();
  const counter = new PassThrough();
  let sizeBytes = 0;
  counter.on('data', (c: Buffer) => (sizeBytes += c.length));
  const output = createWriteStream(tempFile, { flags: 'wx', highWaterMark: 1 << 20 });
  const zipFailed = new Promise<never>((_, reject) => zip.once('error', reject));
  const written = pipeline(zip.outputStream, outer, counter, output);
  // If yazl fails (a file changed size while being read), stop writing and surface that error.
  zipFailed.catch((error: unknown) => (zip.outputStream as Readable).destroy(error as Error));

  const entryPromises = sources.map(
    (source) =>
      new Promise<BackupEntry>((resolve, reject) => {
        const isDeflated = source.isCompressed && options.compressionLevel > 0;
        const base = { mtime: options.mtime, mode: source.mode, compress: isDeflated };
        const level = isDeflated ? { compressionLevel: options.compressionLevel } : {};
        const data = source.data;
        if (data) {
          zip.addBuffer(data, source.zipPath, { ...base, ...level });
          resolve({ path: source.zipPath, sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
          options.onBytes?.(data.length);
          return;
        }
        zip.addReadStreamLazy(source.zipPath, { ...base, ...level, size: source.sizeBytes }, (cb) => {
          const hasher = createHashingStream(options.onBytes);
          // A 1 MB read buffer per tiny node_modules file was a measurable share of the time (allocation + GC).
          const input = createReadStream(source.file!, { highWaterMark: Math.min(1 << 20, Math.max(16 << 10, source.sizeBytes + 1)) });
          input.on('error', (error) => hasher.destroy(error));
          hasher.on('error', reject);
          hasher.on('end', () => resolve({ path: source.zipPath, sha256: hasher.digest(), size: source.sizeBytes }));
          cb(null, input.pipe(hasher));
        });
      }),
  );
  // Rejections are handled through the races below; these keep late ones from becoming unhandled.
  written.catch(() => {});
  for (const p of entryPromises) p.catch(() => {});
  let manifest: BackupManifest;
  try {
    const entries = await Promise.race([Promise.all(entryPromises), zipFailed]);
    manifest = options.createManifest(entries);
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), MANIFEST_PATH, { mtime: options.mtime, compress: true });
    zip.end();
    await Promise.race([written, zipFailed]);
  } catch (error) {
    output.destroy();
    (zip.outputStream as Readable).destroy();
    throw error;
  }
  const handle = await open(tempFile, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: outer.digest(), sizeBytes, manifest };
}
