// Reads backup zips with yauzl: lists every entry without trusting its name, and streams entry data through sha256 +
// CRC-32.
import { createHash } from 'node:crypto';
import { close as closeFd, createReadStream, fstat, open as openFd, read as readFd } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, inflateRaw, inflateRawSync, type ZlibOptions } from 'node:zlib';
import yauzl from 'yauzl';
import { CHUNK_TABLE_EXTRA_ID, METHOD_DEFLATE, parseChunkTable } from './zip-format.js';

export interface ZipEntryInfo {
  /** The raw name decoded as UTF-8 (yazl sets the UTF-8 flag); never validated here. */
  name: string;
  isSymlink: boolean;
  isDirectory: boolean;
  crc32: number;
  size: number;
  entry: yauzl.Entry;
}

export interface EntryDigest {
  sha256: string;
  crc32: number;
  size: number;
}

export interface OpenZip {
  entries: ZipEntryInfo[];
  /**
   * Streams one entry's decompressed bytes through sha256 and CRC-32, optionally into `sink`. Throws on zlib or size
   * errors.
   */
  readEntry(info: ZipEntryInfo, sink?: Writable, onBytes?: (n: number) => void): Promise<EntryDigest>;
  close(): void;
}

/**
 * Entries up to this size are read with one positioned read and inflated synchronously: a stream per entry costs
 * several thread-pool round trips, which made a 4,600-file node_modules take ~4 ms per entry on a loaded host.
 */
const SMALL_ENTRY_BYTES = 1 << 20;

/**
 * True for entries read in pieces on the thread pool (large ones); false for one positioned read + synchronous inflate.
 */
export function isStreamedEntry(info: ZipEntryInfo): boolean {
  const e = info.entry;
  const isSimple = (e.compressionMethod === 0 || e.compressionMethod === 8) && !e.isEncrypted();
  return !(isSimple && info.size <= SMALL_ENTRY_BYTES && e.compressedSize <= SMALL_ENTRY_BYTES);
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Bytes at the end of the zip read in one go: the central directory of a release with thousands of files fits. */
const TAIL_CACHE_BYTES = 4 << 20;

/**
 * A yauzl reader that serves reads inside the zip's last TAIL_CACHE_BYTES from memory. yauzl reads each central
 * directory record with two small reads; from the file that was two thread-pool round trips per entry, the largest
 * cost of verifying a 2,000-file release. Everything else (entry data, yauzl's own checks) is unchanged.
 */
class TailCachedReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly fd: number,
    private readonly tail: Buffer,
    private readonly tailStart: number,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return createReadStream('', { fd: this.fd, start, end: end - 1, autoClose: false });
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const at = position - this.tailStart;
    if (at < 0 || at + length > this.tail.length) return readFd(this.fd, buffer, offset, length, position, callback);
    this.tail.copy(buffer, offset, at, at + length);
    // Asynchronous like a file read: yauzl calls back into us from the callback, which must not recurse per entry.
    queueMicrotask(() => (callback as (err: Error | null, bytesRead: number) => void)(null, length));
  }

  override close(callback: (err: Error | null) => void): void {
    closeFd(this.fd, callback);
  }
}

async function openWithCachedTail(file: string): Promise<yauzl.ZipFile> {
  // A plain descriptor, not a FileHandle: the reader owns it, and a FileHandle would close it when garbage-collected.
  const fd = await promisify(openFd)(file, 'r');
  try {
    const { size } = await promisify(fstat)(fd);
    const tail = Buffer.alloc(Math.min(size, TAIL_CACHE_BYTES));
    const tailStart = size - tail.length;
    const { bytesRead } = await promisify(readFd)(fd, tail, 0, tail.length, tailStart);
    if (bytesRead !== tail.length) throw new Error('the zip changed size while it was being opened');
    const reader = new TailCachedReader(fd, tail, tailStart);
    return await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(
        reader,
        size,
        { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
        (error, zip) => (error ? reject(error) : resolve(zip)),
      ),
    );
  } catch (error) {
    closeFd(fd, () => {});
    throw error;
  }
}

/**
 * Opens `file` and reads its central directory. decodeStrings is off so yauzl does not reject unsafe names
 * itself: we want to report every problem, by name, rather than stop at the first.
 */
export async function openZip(file: string): Promise<OpenZip> {
  const zip = await openWithCachedTail(file);
  const entries: ZipEntryInfo[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        const raw = entry.fileName as unknown as Buffer;
        const name = raw.toString('utf8');
        const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
        entries.push({
          name,
          isSymlink: (unixMode & S_IFMT) === S_IFLNK,
          isDirectory: name.endsWith('/'),
          crc32: entry.crc32,
          size: entry.uncompressedSize,
          entry,
        });
        zip.readEntry();
      });
      zip.once('end', () => resolve());
      zip.once('error', reject);
      zip.readEntry();
    });
  } catch (error) {
    zip.close();
    throw error;
  }
  const handle = await open(file, 'r');
  // Entries are read in central-directory order, which is file order for our zips: one 4 MB read serves many small
  // entries.
  let block = Buffer.alloc(0);
  let blockStart = 0;
  const readAt = async (position: number, length: number, what: string): Promise<Buffer> => {
    if (position >= blockStart && position + length <= blockStart + block.length)
      return block.subarray(position - blockStart, position - blockStart + length);
    const size = Math.max(length, 4 << 20);
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, position);
    block = buffer.subarray(0, bytesRead);
    blockStart = position;
    if (bytesRead < length) throw new Error(`the zip ends inside ${what}`);
    return block.subarray(0, length);
  };
  const getDataStart = async (info: ZipEntryInfo): Promise<number> => {
    const e = info.entry;
    const header = await readAt(e.relativeOffsetOfLocalHeader, 30, info.name);
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error(`invalid local file header signature for ${info.name}`);
    return e.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  };
  const readSmall = async (info: ZipEntryInfo): Promise<Buffer> => {
    const e = info.entry;
    const raw = await readAt(await getDataStart(info), e.compressedSize, info.name);
    const data =
      e.compressionMethod === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: Math.max(1, info.size) });
    if (data.length !== info.size)
      throw new Error(`${info.name} holds ${data.length} bytes, the zip says ${info.size}`);
    return data;
  };
  return {
    entries,
    async readEntry(info, sink, onBytes) {
      if (!isStreamedEntry(info)) {
        const data = await readSmall(info);
        onBytes?.(data.length);
        if (sink)
          await new Promise<void>((resolve, reject) => {
            sink.once('error', reject);
            sink.end(data, () => resolve());
          });
        return { sha256: createHash('sha256').update(data).digest('hex'), crc32: crc32(data) >>> 0, size: data.length };
      }
      const chunks = getChunkTable(info);
      if (chunks) return readChunkedEntry(handle, info, await getDataStart(info), chunks, sink, onBytes);
      const stream = await zip.openReadStreamPromise(info.entry);
      const hash = createHash('sha256');
      let crc = 0;
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        crc = crc32(chunk, crc);
        size += chunk.length;
        onBytes?.(chunk.length);
      });
      if (sink) await pipeline(stream, sink);
      else
        await new Promise<void>((resolve, reject) => {
          stream.once('end', resolve);
          stream.once('error', reject);
        });
      return { sha256: hash.digest('hex'), crc32: crc >>> 0, size };
    },
    close: () => {
      zip.close();
      void handle.close();
    },
  };
}

const inflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(inflateRaw);
/** Chunks being inflated at once on the thread pool (4 threads, shared with the file reads and writes). */
const CHUNKS_IN_FLIGHT = 4;

/**
 * The chunk table our writer puts on a large deflated entry, or null (other writers, or a table that does not add up).
 */
function getChunkTable(info: ZipEntryInfo): { chunkBytes: number; compressedSizes: number[] } | null {
  const e = info.entry;
  if (e.compressionMethod !== METHOD_DEFLATE || e.isEncrypted()) return null;
  const field = e.extraFields.find((f) => f.id === CHUNK_TABLE_EXTRA_ID);
  return field ? parseChunkTable(field.data, e.compressedSize, info.size) : null;
}

/**
 * Reads a chunk-deflated entry: each chunk is a self-contained piece of the deflate stream, so several are inflated
 * at once on the thread pool while this thread hashes (sha256 + CRC-32) and hands the previous one to `sink`, in order.
 * Every chunk but the last must inflate to exactly `chunkBytes`; anything else is corruption and throws.
 */
async function readChunkedEntry(
  handle: FileHandle,
  info: ZipEntryInfo,
  dataStart: number,
  chunks: { chunkBytes: number; compressedSizes: number[] },
  sink: Writable | undefined,
  onBytes: ((n: number) => void) | undefined,
): Promise<EntryDigest> {
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  const count = chunks.compressedSizes.length;
  // Read buffers are reused (a fresh one per chunk drove V8 into a full GC every few chunks, for external memory).
  const largestChunk = Math.max(...chunks.compressedSizes);
  const freeBuffers: Buffer[] = [];
  const inflateChunk = async (index: number, position: number): Promise<Buffer> => {
    const buffer = freeBuffers.pop() ?? Buffer.allocUnsafe(largestChunk);
    try {
      return await inflateFrom(buffer.subarray(0, chunks.compressedSizes[index]!), index, position);
    } finally {
      freeBuffers.push(buffer);
    }
  };
  const inflateFrom = async (compressed: Buffer, index: number, position: number): Promise<Buffer> => {
    const { bytesRead } = await handle.read(compressed, 0, compressed.length, position);
    if (bytesRead !== compressed.length) throw new Error(`the zip ends inside ${info.name}`);
    const isLast = index === count - 1;
    const expected = isLast ? info.size - chunks.chunkBytes * (count - 1) : chunks.chunkBytes;
    const data = await inflateRawAsync(compressed, {
      finishFlush: isLast ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(1, expected),
      // One output buffer of the expected size: zlib's default 16 KB makes a JS callback and thread-pool job per 16 KB.
      // One byte more than expected: an output buffer filled exactly makes Node allocate another and run zlib again.
      chunkSize: Math.max(64, expected + 1),
    });
    if (data.length !== expected)
      throw new Error(`chunk ${index + 1} of ${info.name} inflates to ${data.length} bytes, expected ${expected}`);
    return data;
  };
  async function* inflateInOrder(): AsyncGenerator<Buffer> {
    const queue: Promise<Buffer>[] = [];
    let position = dataStart;
    for (let next = 0; next < count || queue.length > 0;) {
      while (next < count && queue.length < CHUNKS_IN_FLIGHT) {
        const chunk = inflateChunk(next, position);
        chunk.catch(() => {}); // awaited in order below
        queue.push(chunk);
        position += chunks.compressedSizes[next++]!;
      }
      const data = await queue.shift()!;
      hash.update(data);
      crc = crc32(data, crc);
      size += data.length;
      onBytes?.(data.length);
      if (sink && data.length > 0) yield data;
    }
  }
  if (sink) await pipeline(inflateInOrder(), sink);
  else for await (const _ of inflateInOrder());
  return { sha256: hash.digest('hex'), crc32: crc >>> 0, size };
}

/** The sha256 of a whole file, streamed. */
export async function hashFileSha256(file: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    onBytes?.(chunk.length);
  }
  return hash.digest('hex');
}
