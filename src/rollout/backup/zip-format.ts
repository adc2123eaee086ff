// The zip records the backup writer emits (local header, data descriptor, central directory, end record) and its chunk
// table.
// Plain PKZIP 2.0 (no zip64): `unzip`, yauzl and every other reader open it. Offsets and sizes must stay below 4 GiB.

export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;

/** Largest value a 32-bit zip field holds; past it zip64 would be needed, which we refuse rather than write wrongly. */
export const MAX_ZIP32 = 0xffffffff;
export const MAX_ZIP32_ENTRIES = 0xffff;

const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const VERSION_NEEDED = 20;
/** Made by Unix (3), spec 2.0: readers then take the upper 16 bits of the external attributes as the file mode. */
const VERSION_MADE_BY = (3 << 8) | 20;
const S_IFREG = 0o100000;

/**
 * Extra-field id of our chunk table (central directory only; other readers skip unknown ids). A large entry is deflated
 * as independent chunks of `chunkBytes` (each from a fresh compressor, ended with a sync flush, so their concatenation
 * is one valid deflate stream); the table lists each chunk's compressed size, so a reader can inflate them in parallel.
 */
export const CHUNK_TABLE_EXTRA_ID = 0x6864;

export interface ZipEntryRecord {
  name: Buffer;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  mode: number;
  localHeaderOffset: number;
  hasDataDescriptor: boolean;
  /**
   * Set for chunk-deflated entries: uncompressed bytes per chunk (the last may be shorter) and each chunk's compressed
   * size.
   */
  chunks?: { chunkBytes: number; compressedSizes: number[] };
}

/** MS-DOS time and date in local time, as yazl and Info-ZIP write them. */
export function getDosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getFullYear());
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/** The local file header; with a data descriptor the CRC and sizes are zero here and follow the data. */
export function createLocalHeader(entry: ZipEntryRecord, mtime: Date): Buffer {
  const { time, date } = getDosDateTime(mtime);
  const header = Buffer.alloc(30 + entry.name.length);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(FLAG_UTF8 | (entry.hasDataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt16LE(time, 10);
  header.writeUInt16LE(date, 12);
  if (!entry.hasDataDescriptor) {
    header.writeUInt32LE(entry.crc32 >>> 0, 14);
    header.writeUInt32LE(entry.compressedSize, 18);
    header.writeUInt32LE(entry.size, 22);
  }
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  entry.name.copy(header, 30);
  return header;
}

export function createDataDescriptor(entry: ZipEntryRecord): Buffer {
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR_SIGNATURE, 0);
  descriptor.writeUInt32LE(entry.crc32 >>> 0, 4);
  descriptor.writeUInt32LE(entry.compressedSize, 8);
  descriptor.writeUInt32LE(entry.size, 12);
  return descriptor;
}

function createChunkTable(chunks: NonNullable<ZipEntryRecord['chunks']>): Buffer {
  const extra = Buffer.alloc(4 + 4 + 4 * chunks.compressedSizes.length);
  extra.writeUInt16LE(CHUNK_TABLE_EXTRA_ID, 0);
  extra.writeUInt16LE(extra.length - 4, 2);
  extra.writeUInt32LE(chunks.chunkBytes, 4);
  chunks.compressedSizes.forEach((n, i) => extra.writeUInt32LE(n, 8 + 4 * i));
  return extra;
}

/** The chunk table from an extra field's data, or null when it is malformed or does not add up to the entry's sizes. */
export function parseChunkTable(
  data: Buffer,
  compressedSize: number,
  size: number,
): { chunkBytes: number; compressedSizes: number[] } | null {
  if (data.length < 4 || (data.length - 4) % 4 !== 0) return null;
  const chunkBytes = data.readUInt32LE(0);
  const compressedSizes = Array.from({ length: (data.length - 4) / 4 }, (_, i) => data.readUInt32LE(4 + 4 * i));
  const expectedChunks = Math.max(1, Math.ceil(size / chunkBytes));
  if (chunkBytes === 0 || compressedSizes.length !== expectedChunks) return null;
  if (compressedSizes.reduce((a, b) => a + b, 0) !== compressedSize) return null;
  return { chunkBytes, compressedSizes };
}

/** The central directory: one record per entry, then the end record. Throws when zip64 would be needed. */
export function createCentralDirectory(
  entries: readonly ZipEntryRecord[],
  mtime: Date,
  centralDirectoryOffset: number,
): Buffer {
  if (entries.length > MAX_ZIP32_ENTRIES)
    throw new Error(`a backup of ${entries.length} entries would need zip64, which the writer does not support`);
  const { time, date } = getDosDateTime(mtime);
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const extra = entry.chunks ? createChunkTable(entry.chunks) : Buffer.alloc(0);
    if (extra.length > 0xffff)
      throw new Error(`the chunk table of ${entry.name.toString('utf8')} is too large for a zip extra field`);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
    record.writeUInt16LE(VERSION_MADE_BY, 4);
    record.writeUInt16LE(VERSION_NEEDED, 6);
    record.writeUInt16LE(FLAG_UTF8 | (entry.hasDataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 8);
    record.writeUInt16LE(entry.method, 10);
    record.writeUInt16LE(time, 12);
    record.writeUInt16LE(date, 14);
    record.writeUInt32LE(entry.crc32 >>> 0, 16);
    record.writeUInt32LE(entry.compressedSize, 20);
    record.writeUInt32LE(entry.size, 24);
    record.writeUInt16LE(entry.name.length, 28);
    record.writeUInt16LE(extra.length, 30);
    record.writeUInt32LE(((S_IFREG | (entry.mode & 0o7777)) << 16) >>> 0, 38);
    record.writeUInt32LE(entry.localHeaderOffset, 42);
    parts.push(record, entry.name, extra);
  }
  const size = parts.reduce((n, p) => n + p.length, 0);
  if (centralDirectoryOffset + size > MAX_ZIP32)
    throw new Error('the backup zip would exceed 4 GiB, which needs zip64; the writer does not support it');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(centralDirectoryOffset, 16);
  parts.push(end);
  return Buffer.concat(parts);
}
