// Checks a backup zip's insides: safe entry names, manifest, every entry's sha256 and CRC-32; optionally extracts while
// checking.
import { Writable } from 'node:stream';
import {
  compareWithManifest,
  getEntryPathProblem,
  MANIFEST_PATH,
  parseBackupManifest,
  type BackupManifest,
  type BackupProblem,
} from '../core/backup-manifest.js';
import { isStreamedEntry, openZip, type EntryDigest, type ZipEntryInfo } from './zip-reader.js';

interface EntryOutcome {
  info: ZipEntryInfo;
  digest: EntryDigest;
  problems: BackupProblem[];
}

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

/**
 * Never throws for a bad zip: everything wrong becomes a problem. Stops before writing anything when a name is unsafe.
 */
export async function checkZip(file: string, options: CheckZipOptions = {}): Promise<CheckZipResult> {
  const problems: BackupProblem[] = [];
  let zip;
  try {
    zip = await openZip(file);
  } catch (error) {
    return {
      problems: [{ code: 'EZIPINVALID', message: `the file is not a readable zip: ${(error as Error).message}` }],
      manifest: null,
      bytesRead: 0,
    };
  }
  try {
    const files: ZipEntryInfo[] = [];
    const seen = new Set<string>();
    for (const info of zip.entries) {
      const pathProblem = getEntryPathProblem(info.name);
      if (pathProblem)
        problems.push({
          code: 'EPATHESCAPE',
          entry: info.name,
          message: `entry ${JSON.stringify(info.name)}: ${pathProblem}`,
        });
      else if (info.isSymlink)
        problems.push({
          code: 'EPATHESCAPE',
          entry: info.name,
          message: `entry ${info.name} is a symlink; symlink entries are refused`,
        });
      else if (seen.has(info.name))
        problems.push({ code: 'EZIPINVALID', entry: info.name, message: `entry ${info.name} appears more than once` });
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
        problems.push({
          code: 'EMANIFESTINVALID',
          entry: MANIFEST_PATH,
          message: `manifest.json cannot be read: ${(error as Error).message}`,
        });
      }
    }
    if (options.openSink && problems.length > 0) return { problems, manifest: null, bytesRead: 0 };

    const actual = new Map<string, { sha256: string; size: number }>();
    let bytesRead = 0;
    /** Reads one entry; never throws: what is wrong is in the outcome's problems. */
    const readOne = async (info: ZipEntryInfo): Promise<EntryOutcome> => {
      try {
        const sink = options.openSink ? await options.openSink(info.name, info) : undefined;
        const digest = await zip.readEntry(info, sink, options.onBytes);
        const isCrcOk = digest.crc32 === info.crc32 >>> 0;
        const message = `${info.name} has CRC-32 ${hex8(digest.crc32)} but the zip records ${hex8(info.crc32)}`;
        return { info, digest, problems: isCrcOk ? [] : [{ code: 'ECRCMISMATCH', entry: info.name, message }] };
      } catch (error) {
        const message = `${info.name} cannot be read: ${(error as Error).message}`;
        return {
          info,
          digest: { sha256: 'unreadable', size: -1, crc32: 0 },
          problems: [{ code: 'EENTRYCORRUPT', entry: info.name, message }],
        };
      }
    };
    // Large entries (the database) are read on the thread pool while this thread goes on with the small ones, one
    // large entry at a time; outcomes are judged in zip order, so problems come out in the same order as before.
    const entries = files.filter((info) => info !== manifestInfo);
    const outcomes = new Map<ZipEntryInfo, Promise<EntryOutcome>>();
    let largeEntries: Promise<unknown> = Promise.resolve();
    for (const info of entries.filter(isStreamedEntry)) {
      const outcome = largeEntries.then(() => readOne(info));
      largeEntries = outcome;
      outcomes.set(info, outcome);
    }
    for (const info of entries) {
      if (outcomes.has(info)) continue;
      const outcome = await readOne(info);
      outcomes.set(info, Promise.resolve(outcome));
      if (options.openSink && outcome.problems.length > 0) break;
    }
    const settled = await Promise.all(entries.filter((info) => outcomes.has(info)).map((info) => outcomes.get(info)!));
    for (const outcome of settled) {
      if (outcome.digest.size >= 0) bytesRead += outcome.digest.size;
      actual.set(outcome.info.name, { sha256: outcome.digest.sha256, size: outcome.digest.size });
      problems.push(...outcome.problems);
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
