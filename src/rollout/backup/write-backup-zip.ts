// Writes backup sources into a zip: large entries deflated in parallel chunks on the thread pool while this thread
// hashes.
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, deflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { MANIFEST_PATH, type BackupEntry, type BackupManifest } from '../core/backup-manifest.js';
import {
  createCentralDirectory,
  createDataDescriptor,
  createLocalHeader,
  MAX_ZIP32,
  MAX_ZIP32_ENTRIES,
  METHOD_DEFLATE,
  METHOD_STORE,
  type ZipEntryRecord,
} from './zip-format.js';

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
  /** CRC-32 of the whole zip as written: the read-back compares the file on disk against it. */
  crc32: number;
  sizeBytes: number;
  manifest: BackupManifest;
}

/**
 * Uncompressed bytes per independently deflated chunk. Large enough that the lost 32 KB window at each boundary costs
 * < 0.1 % of size and the thread-pool round trip is noise; small enough that a few in flight stay within ~40 MB.
 */
export const CHUNK_BYTES = 4 << 20;
/** Chunks being deflated at once: the pool has 4 threads; more than the cores only adds memory. */
const CHUNKS_IN_FLIGHT = 4;
/**
 * Files up to this size are read and deflated in one synchronous call: a thread-pool round trip costs more than the
 * work.
 */
const SMALL_FILE_BYTES = 256 << 10;
/** Output is gathered into writes of about this size. */
const WRITE_BYTES = 4 << 20;

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);

/** The zip file being written: hashes (sha256 + CRC-32) every byte in file order, batches small writes. */
class ZipOutput {
  position = 0;
  crc32 = 0;
  readonly hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly handle: FileHandle) {}

  async append(data: Buffer): Promise<void> {
    this.hash.update(data);
    this.crc32 = crc32(data, this.crc32);
    this.position += data.length;
    if (this.position > MAX_ZIP32)
      throw new Error('the backup zip would exceed 4 GiB, which needs zip64; the writer does not support it');
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= WRITE_BYTES) await this.flush();
  }

  /** Starts writing what is pending once the previous write finished: one write in flight while the caller goes on. */
  async flush(): Promise<void> {
    const buffers = this.pending;
    const at = this.position - this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    await this.writing;
    this.writing = writeFully(this.handle, buffers, at);
    // awaited by the next flush or finish; this keeps it from counting as unhandled meanwhile
    this.writing.catch(() => {});
  }

  async finish(): Promise<void> {
    if (this.pendingBytes > 0) await this.flush();
    await this.writing;
  }
}

/** One writev of `buffers` at `position` (no copy into one buffer); a short write (a filling disk) writes the rest. */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const done = (await handle.writev(buffers, position)).bytesWritten;
  if (done === total) return;
  const rest = Buffer.concat(buffers).subarray(done);
  for (let offset = 0; offset < rest.length;) {
    const { bytesWritten } = await handle.write(rest, offset, rest.length - offset, position + done + offset);
    offset += bytesWritten;
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

interface WriteOptions {
  mtime: Date;
  compressionLevel: number;
  onBytes?: (n: number) => void;
}

/** A small entry whose bytes are in memory: CRC and sizes go in the local header, no data descriptor. */
async function addWholeEntry(
  out: ZipOutput,
  name: string,
  data: Buffer,
  mode: number,
  shouldDeflate: boolean,
  options: WriteOptions,
): Promise<{ record: ZipEntryRecord; sha256: string }> {
  let method = METHOD_STORE;
  let stored = data;
  if (shouldDeflate && data.length > 0) {
    const deflated = deflateRawSync(data, { level: options.compressionLevel, memLevel: 9 });
    // Storing what does not shrink keeps restore from inflating it for nothing.
    if (deflated.length < data.length) [method, stored] = [METHOD_DEFLATE, deflated];
  }
  const record: ZipEntryRecord = {
    name: Buffer.from(name, 'utf8'),
    method,
    crc32: crc32(data) >>> 0,
    compressedSize: stored.length,
    size: data.length,
    mode,
    localHeaderOffset: out.position,
    hasDataDescriptor: false,
  };
  await out.append(createLocalHeader(record, options.mtime));
  await out.append(stored);
  options.onBytes?.(data.length);
  return { record, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * A large file streamed in CHUNK_BYTES pieces. This thread reads, hashes (sha256 for the manifest, CRC-32 for the zip)
 * and writes; each chunk is deflated on the thread pool by a fresh compressor ending in a sync flush (the last one
 * finishes the stream), so several chunks compress at once on both cores. The sizes are only known at the end, so
 * they follow the data in a data descriptor. Throws when the file is not `sizeBytes` long (it changed while read).
 */
async function addLargeFile(
  out: ZipOutput,
  source: BackupSource,
  shouldDeflate: boolean,
  options: WriteOptions,
): Promise<{ record: ZipEntryRecord; sha256: string }> {
  const size = source.sizeBytes;
  if (size > MAX_ZIP32)
    throw new Error(
      `${source.zipPath} is ${size} bytes; entries over 4 GiB need zip64, which the writer does not support`,
    );
  const record: ZipEntryRecord = {
    name: Buffer.from(source.zipPath, 'utf8'),
    method: shouldDeflate ? METHOD_DEFLATE : METHOD_STORE,
    crc32: 0,
    compressedSize: 0,
    size,
    mode: source.mode ?? 0o644,
    localHeaderOffset: out.position,
    hasDataDescriptor: true,
  };
  const compressedSizes: number[] = [];
  const hash = createHash('sha256');
  const input = await open(source.file!, 'r');
  const queue: { input: Buffer; output: Promise<Buffer> }[] = [];
  // Deflated chunks' inputs are reused: a fresh 4 MB buffer per chunk made V8 run a full GC every few chunks
  // (external memory pressure), measured at a third of this thread's time. Stored chunks are written as they are.
  const freeInputs: Buffer[] = [];
  try {
    await out.append(createLocalHeader(record, options.mtime));
    const writeNext = async () => {
      const next = queue.shift()!;
      const chunk = await next.output;
      if (shouldDeflate && next.input.length === CHUNK_BYTES) freeInputs.push(next.input);
      compressedSizes.push(chunk.length);
      record.compressedSize += chunk.length;
      await out.append(chunk);
    };
    let position = 0;
    do {
      const length = Math.min(CHUNK_BYTES, size - position);
      const data = length === CHUNK_BYTES && freeInputs.length > 0 ? freeInputs.pop()! : Buffer.allocUnsafe(length);
      if ((await readFully(input, data, position)) !== data.length)
        throw new Error(`${source.file} shrank while it was being backed up`);
      hash.update(data);
      record.crc32 = crc32(data, record.crc32);
      position += data.length;
      options.onBytes?.(data.length);
      const isLast = position === size;
      const flush = isLast ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH;
      // chunkSize: zlib's default hands back 16 KB at a time, a JS callback and a new thread-pool job each (measured:
      // most of this thread's time); one output buffer a little larger than the input takes one job per chunk.
      const deflating = {
        level: options.compressionLevel,
        memLevel: 9,
        finishFlush: flush,
        chunkSize: data.length + (64 << 10),
      };
      const next = shouldDeflate ? deflateRawAsync(data, deflating) : Promise.resolve(data);
      next.catch(() => {}); // awaited in order below; this keeps a failure behind an earlier one from going unhandled
      queue.push({ input: data, output: next });
      if (queue.length >= CHUNKS_IN_FLIGHT) await writeNext();
    } while (position < size);
    while (queue.length > 0) await writeNext();
    if ((await input.read(Buffer.alloc(1), 0, 1, size)).bytesRead !== 0)
      throw new Error(`${source.file} grew while it was being backed up`);
  } finally {
    await input.close();
  }
  record.crc32 >>>= 0;
  if (shouldDeflate) record.chunks = { chunkBytes: CHUNK_BYTES, compressedSizes };
  await out.append(createDataDescriptor(record));
  return { record, sha256: hash.digest('hex') };
}

/**
 * Writes `sources` then manifest.json (built by `createManifest` from the entry hashes, so every file is read once)
 * into the new file `tempFile` (created exclusively), fsyncs it and returns its sha256, CRC-32 and size, all computed
 * from the bytes as they were written. The modification time of every entry is `mtime`: the same content gives the
 * same zip. Refuses (throws) what would need zip64: more than 65,535 entries, or any size or offset past 4 GiB.
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
  // Refused before writing a byte when it is certain; sizes past 4 GiB are also caught while writing (compression
  // varies).
  if (sources.length + 1 > MAX_ZIP32_ENTRIES)
    throw new Error(`a backup of ${sources.length + 1} entries would need zip64, which the writer does not support`);
  const tooLarge = sources.find((s) => s.sizeBytes > MAX_ZIP32);
  if (tooLarge)
    throw new Error(
      `${tooLarge.zipPath} is ${tooLarge.sizeBytes} bytes; ` +
        'entries over 4 GiB need zip64, which the writer does not support',
    );
  const handle = await open(tempFile, 'wx');
  try {
    const out = new ZipOutput(handle);
    const records: ZipEntryRecord[] = [];
    const entries: BackupEntry[] = [];
    for (const source of sources) {
      const shouldDeflate = source.isCompressed && options.compressionLevel > 0;
      const mode = source.mode ?? 0o644;
      let added;
      if (source.data) added = await addWholeEntry(out, source.zipPath, source.data, mode, shouldDeflate, options);
      else if (source.sizeBytes <= SMALL_FILE_BYTES) {
        // Synchronous on purpose: thousands of node_modules files, each cheaper than a thread-pool round trip.
        const data = readFileSync(source.file!);
        if (data.length !== source.sizeBytes)
          throw new Error(`${source.file} changed size while it was being backed up`);
        added = await addWholeEntry(out, source.zipPath, data, mode, shouldDeflate, options);
      } else added = await addLargeFile(out, source, shouldDeflate, options);
      records.push(added.record);
      entries.push({ path: source.zipPath, sha256: added.sha256, size: added.record.size });
    }
    const manifest = options.createManifest(entries);
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    records.push(
      (await addWholeEntry(out, MANIFEST_PATH, manifestBytes, 0o644, true, { ...options, onBytes: undefined })).record,
    );
    await out.append(createCentralDirectory(records, options.mtime, out.position));
    await out.finish();
    await handle.sync();
    return { sha256: out.hash.digest('hex'), crc32: out.crc32 >>> 0, sizeBytes: out.position, manifest };
  } finally {
    await handle.close();
  }
}

/**
 * The read-back check of a freshly written zip: the file's CRC-32 as it is on disk against the CRC-32 of the bytes we
 * wrote. Every byte the writer produced went through zlib (trusted) and our own framing (checked by the tests with
 * `unzip -t` and a full verify), so what remains to catch is a bad write: a short or misplaced write, a lost page,
 * a concurrent writer. Comparing the written stream is enough for that and costs one read plus CRC-32 (several GB/s),
 * where re-inflating and re-hashing every entry would double the CPU of a backup. `dhash backup verify` does the full
 * check.
 */
export async function checkWrittenZip(
  file: string,
  written: Pick<WrittenZip, 'crc32' | 'sizeBytes'>,
  onBytes?: (n: number) => void,
): Promise<string | null> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(WRITE_BYTES);
    let crc = 0;
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      crc = crc32(buffer.subarray(0, bytesRead), crc);
      size += bytesRead;
      onBytes?.(bytesRead);
    }
    crc >>>= 0;
    if (size !== written.sizeBytes) return `read back ${size} bytes, wrote ${written.sizeBytes}`;
    if (crc !== written.crc32)
      return (
        `read back CRC-32 ${crc.toString(16).padStart(8, '0')}, ` +
        `wrote ${written.crc32.toString(16).padStart(8, '0')}`
      );
    return null;
  } finally {
    await handle.close();
  }
}
