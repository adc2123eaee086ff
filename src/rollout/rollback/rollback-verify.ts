// The one verification of a rollback's backup: its sha256 against the .sha256, the manifest, the environment.
import { Writable } from 'node:stream';
import type { ResolvedEnvironment } from '../config/environments.js';
import { checkEnvironment, checkOuterChecksum, isRegularFile } from '../backup/verify-backup.js';
import { openZip } from '../backup/zip-reader.js';
import {
  MANIFEST_PATH,
  parseBackupManifest,
  type BackupManifest,
  type BackupProblem,
} from '../core/backup-manifest.js';

export interface VerifiedBackup {
  file: string;
  ok: boolean;
  problems: BackupProblem[];
  manifest: BackupManifest | null;
  sha256: string | null;
}

/**
 * Verified ONCE per rollback, and the result is passed on: the outer sha256 authenticates every byte of the zip as it
 * was written and read back at backup time, so the entries are not inflated and hashed here a second time. The entries
 * a restore uses are still checked against the manifest while they are extracted (the file could change meanwhile).
 * A switch-back extracts nothing: this one read of the zip is its whole backup cost.
 */
export async function verifyRollbackBackup(file: string, environment: ResolvedEnvironment): Promise<VerifiedBackup> {
  if (!isRegularFile(file))
    return {
      file,
      ok: false,
      problems: [{ code: 'EBACKUPNOTFOUND', message: `${file} does not exist or is not a file` }],
      manifest: null,
      sha256: null,
    };
  const problems: BackupProblem[] = [];
  let manifest: BackupManifest | null = null;
  const [outer, read] = await Promise.all([
    checkOuterChecksum(file, { projectRoot: environment.paths.root }),
    readManifest(file),
  ]);
  problems.push(...outer.problems);
  if ('problems' in read) problems.push(...read.problems);
  else {
    manifest = read.manifest;
    problems.push(...(await checkEnvironment(file, manifest, environment.name)));
  }
  return { file, ok: problems.length === 0, problems, manifest, sha256: outer.sha256 };
}

async function readManifest(file: string): Promise<{ manifest: BackupManifest } | { problems: BackupProblem[] }> {
  try {
    const zip = await openZip(file);
    try {
      const info = zip.entries.find((e) => e.name === MANIFEST_PATH);
      if (!info) return { problems: [{ code: 'EBACKUPINVALID', message: `${MANIFEST_PATH} is missing from the zip` }] };
      const chunks: Buffer[] = [];
      await zip.readEntry(info, new Writable({ write: (c, _e, done) => (chunks.push(c as Buffer), done()) }));
      const parsed = parseBackupManifest(Buffer.concat(chunks).toString('utf8'));
      return parsed.manifest ? { manifest: parsed.manifest } : { problems: parsed.problems };
    } finally {
      zip.close();
    }
  } catch (error) {
    return {
      problems: [{ code: 'EZIPINVALID', message: `the file is not a readable zip: ${(error as Error).message}` }],
    };
  }
}

/** `CODE: message` lines, as the monitor and the incident show them. */
export const formatBackupProblems = (problems: readonly BackupProblem[]): string[] =>
  problems.map((p) => `${p.code}: ${p.message}`);
