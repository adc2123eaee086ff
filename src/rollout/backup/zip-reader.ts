// Reads backup zips with yauzl: lists every entry without trusting its name, and streams entry data through sha256 + CRC-32.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';

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
  /** Streams one entry's decompressed bytes through sha256 and CRC-32, optionally into `sink`. Throws on zlib or size errors. */
  readEntry(info: ZipEntryInfo, sink?: Writable, onBytes?: (n: number) => void): Promise<EntryDigest>;
  close(): void;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Opens `file` and reads its central directory. decodeStrings is off so yauzl does not reject unsafe names
 * itself: we want to report every problem, by name, rather than stop at the first.
 */
export async function openZip(file: string): Promise<OpenZip> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
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
  return {
    entries,
    async readEntry(info, sink, onBytes) {
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
    close: () => zip.close(),
  };
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
