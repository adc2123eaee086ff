// Checks a backup zip's insides: safe entry names, manifest, every entry's sha256 and CRC-32; optionally extracts while checking.
import { Writable } from 'node:stream';
import {
  compareWithManifest,
  getEntryPathProblem,
  MANIFEST_PATH,
  parseBackupManifest,
  type BackupManifest,
  type BackupProblem,
} from '../core/backup-manifest.js';
import { openZip, type ZipEntryInfo } from './zip-reader.js';

export interface CheckZipOptions {
  /**
   * Called for each file entry (after every name was found safe and the manifest parsed); returns where its bytes go.
   * Extraction uses this; verification passes nothing.
   */
  openSink?: (path: string, info: ZipEntryInfo) => Promise<Writable>;
  onBytes?: (n: number) => void;
  /** Extra judgement of the parsed manifest (e.g. its environment), before any entry is read. */
  checkManifest?: (manifest: BackupManifest) => Promise<BackupProblem[]>;
}

export interface CheckZipResult {
  problems: BackupProblem[];
  manifest: BackupManifest | null;
  /** Total uncompressed bytes of the entries read. */
  bytesRead: number;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** Never throws for a bad zip: everything wrong becomes a problem. Stops before writing anything when a name is unsafe. */
export async function checkZip(file: string, options: CheckZipOptions = {}): Promise<CheckZipResult> {
  const problems: BackupProblem[] = [];
  let zip;
  try {
    zip = await openZip(file);
  } catch (error) {
    return { problems: [{ code: 'EZIPINVALID', message: `the file is not a readable zip: ${(error as Error).message}` }], manifest: null, bytesRead: 0 };
  }
  try {
    const files: ZipEntryInfo[] = [];
    const seen = new Set<string>();
    for (const info of zip.entries) {
      const pathProblem = getEntryPathProblem(info.name);
      if (pathProblem) problems.push({ code: 'EPATHESCAPE', entry: info.name, message: `entry ${JSON.stringify(info.name)}: ${pathProblem}` });
      else if (info.isSymlink) problems.push({ code: 'EPATHESCAPE', entry: info.name, message: `entry ${info.name} is a symlink; symlink entries are refused` });
      else if (seen.has(info.name)) problems.push({ code: 'EZIPINVALID', entry: info.name, message: `entry ${info.name} appears more than once` });
      else if (!info.isDirectory) files.push(info);
      seen.add(info.name);
    }
    const manifestInfo = files.find((f) => f.name === MANIFEST_PATH);
    if (!manifestInfo) problems.push({ code: 'EMANIFESTINVALID', message: 'the zip has no manifest.json' });
    // An unsafe name means the zip was not made by us: refuse to write anything from it.
    if (options.openSink && problems.length > 0) return { problems, manifest: null, bytesRead: 0 };

    let manifest: BackupManifest | null = null;
    if (manifestInfo) {
      const chunks: Buffer[] = [];
      let manifestBytes = 0;
      const collect = new Writable({
        write(chunk: Buffer, _enc, cb) {
          manifestBytes += chunk.length;
          if (manifestBytes > 64 << 20) return cb(new Error('manifest.json is larger than 64 MB'));
          chunks.push(chunk);
          cb();
        },
      });
      try {
        await zip.readEntry(manifestInfo, collect);
        const parsed = parseBackupManifest(Buffer.concat(chunks).toString('utf8'));
        manifest = parsed.manifest;
        problems.push(...parsed.problems);
        if (manifest && options.checkManifest) problems.push(...(await options.checkManifest(manifest)));
      } catch (error) {
        problems.push({ code: 'EMANIFESTINVALID', entry: MANIFEST_PATH, message: `manifest.json cannot be read: ${(error as Error).message}` });
      }
    }
    if (options.openSink && problems.length > 0) return { problems, manifest: null, bytesRead: 0 };

    const actual = new Map<string, { sha256: string; size: number }>();
    let bytesRead = 0;
    for (const info of files) {
      if (info === manifestInfo) continue;
      try {
        const sink = options.openSink ? await options.openSink(info.name, info) : undefined;
        const digest = await zip.readEntry(info, sink, options.onBytes);
        bytesRead += digest.size;
        actual.set(info.name, { sha256: digest.sha256, size: digest.size });
        if (digest.crc32 !== info.crc32 >>> 0) {
          problems.push({
            code: 'ECRCMISMATCH',
            entry: info.name,
            message: `${info.name} has CRC-32 ${hex8(digest.crc32)} but the zip records ${hex8(info.crc32)}`,
          });
        }
      } catch (error) {
        problems.push({ code: 'EENTRYCORRUPT', entry: info.name, message: `${info.name} cannot be read: ${(error as Error).message}` });
        actual.set(info.name, { sha256: 'unreadable', size: -1 });
      }
      if (options.openSink && problems.length > 0) return { problems, manifest, bytesRead };
    }
    // An entry refused by its name already has its problem; do not also call it "missing".
    const refused = new Set(problems.filter((p) => p.code === 'EPATHESCAPE').map((p) => p.entry));
    if (manifest) problems.push(...compareWithManifest(manifest, actual).filter((p) => !refused.has(p.entry)));
    return { problems, manifest, bytesRead };
  } finally {
    zip.close();
  }
}
