// Verifies a backup zip end to end (outer sha256 against its .sha256, safe names, manifest, every entry's sha256 and
// CRC-32, env).
import { statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseBackupName, parseChecksumLine, sortBackupNamesNewestFirst } from '../core/backup-name.js';
import type { BackupManifest, BackupProblem } from '../core/backup-manifest.js';
import { createError, type DhashError } from '../../lib/errors.js';
import { checkZip, type CheckZipOptions } from './check-zip.js';
import { checkPostgresDumpInZip } from './check-postgres-dump.js';
import { hashFileSha256 } from './zip-reader.js';

export interface VerifyBackupOptions {
  /** The environment the caller means to restore into; another env's backup is a problem (EWRONGENV). */
  expectedEnv?: string;
  /** The repo root: the `.sha256` line's path is relative to it. */
  projectRoot: string;
  onBytes?: (n: number) => void;
  /** Where pg_restore is looked up for a PostgreSQL backup's `pg_restore --list` check; default: this process's. */
  processEnv?: Record<string, string | undefined>;
}

export interface VerifyBackupResult {
  ok: boolean;
  problems: BackupProblem[];
  manifest: BackupManifest | null;
  /** The zip's computed sha256 (null when the file is missing). */
  sha256: string | null;
}

export const getChecksumFile = (zipFile: string) => `${zipFile}.sha256`;

/** A missing path and a folder are both "no such backup". */
export const isRegularFile = (file: string): boolean => statSync(file, { throwIfNoEntry: false })?.isFile() === true;

/**
 * A PostgreSQL backup's dump is also listed with `pg_restore --list` (EPGTOOLMISSING when pg_restore is not installed).
 * Never throws for a bad backup: every finding is a problem. Turn a failed result into an error with
 * `createBackupRefusal`.
 */
export async function verifyBackup(file: string, options: VerifyBackupOptions): Promise<VerifyBackupResult> {
  if (!isRegularFile(file)) {
    return {
      ok: false,
      problems: [{ code: 'EBACKUPNOTFOUND', message: `${file} does not exist or is not a file` }],
      manifest: null,
      sha256: null,
    };
  }
  const [outer, inner] = await Promise.all([
    checkOuterChecksum(file, options),
    checkZip(file, { onBytes: options.onBytes, checkManifest: (m) => checkEnvironment(file, m, options.expectedEnv) }),
  ]);
  const problems = [...outer.problems, ...inner.problems];
  // A PostgreSQL dump whose bytes are right can still be unusable (truncated by pg_dump itself): pg_restore reads it.
  if (problems.length === 0 && inner.manifest)
    problems.push(...(await checkPostgresDumpInZip(file, inner.manifest, options.processEnv ?? process.env)));
  return { ok: problems.length === 0, problems, manifest: inner.manifest, sha256: outer.sha256 };
}

/** Outer sha256 vs the `.sha256` file, and that file's path naming this very zip (so `sha256sum -c` checks it). */
export async function checkOuterChecksum(
  file: string,
  options: Pick<VerifyBackupOptions, 'projectRoot'>,
): Promise<{ sha256: string; problems: BackupProblem[] }> {
  const sha256File = getChecksumFile(file);
  const [sha256, text] = await Promise.all([hashFileSha256(file), readFile(sha256File, 'utf8').catch(() => null)]);
  if (text === null) {
    return {
      sha256,
      problems: [{ code: 'EBACKUPCHECKSUMMISSING', message: `the checksum file ${basename(sha256File)} is missing` }],
    };
  }
  const line = parseChecksumLine(text);
  if (!line)
    return {
      sha256,
      problems: [{ code: 'EBACKUPINVALID', message: `${basename(sha256File)} is not in sha256sum format` }],
    };
  const problems: BackupProblem[] = [];
  if (line.sha256 !== sha256) {
    problems.push({
      code: 'ECHECKSUMMISMATCH',
      message: `the zip's sha256 is ${sha256} but ${basename(sha256File)} records ${line.sha256}`,
      expected: line.sha256,
      actual: sha256,
    });
  }
  if (resolve(options.projectRoot, line.path) !== resolve(file)) {
    problems.push({
      code: 'EBACKUPINVALID',
      message:
        `${basename(sha256File)} names ${line.path}, not ${relative(options.projectRoot, file)}: ` +
        '`sha256sum -c` from the repo root would check another file',
    });
  }
  return { sha256, problems };
}

/** The file name's env against the manifest's, and the manifest's against the expected one. */
export async function checkEnvironment(
  file: string,
  manifest: BackupManifest,
  expectedEnv: string | undefined,
): Promise<BackupProblem[]> {
  const problems: BackupProblem[] = [];
  const parsed = parseBackupName(basename(file));
  if (parsed && parsed.env !== manifest.env) {
    problems.push({
      code: 'EMANIFESTMISMATCH',
      entry: 'manifest.json',
      message: `the file name says \`${parsed.env}\` but the manifest says \`${manifest.env}\``,
    });
  }
  if (expectedEnv !== undefined && manifest.env !== expectedEnv) {
    const newest = await findNewestBackupName(dirname(file), expectedEnv);
    const newestHint = newest ? `; the newest backup of ${expectedEnv} is ${newest}` : '';
    problems.push({
      code: 'EWRONGENV',
      message: `this is a backup of \`${manifest.env}\`, not \`${expectedEnv}\`${newestHint}`,
      expected: expectedEnv,
      actual: manifest.env,
      newest,
    });
  }
  return problems;
}

/** The newest finished backup file of `env` in `dir` (by name), or null. */
export async function findNewestBackupName(dir: string, envName: string): Promise<string | null> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const newest = sortBackupNamesNewestFirst(names).find((n) => parseBackupName(n)?.env === envName);
  return newest ? join(dir, newest) : null;
}

/** The coded error for a failed verification: the first problem decides the code, the details list them all. */
export function createBackupRefusal(
  file: string,
  result: Pick<VerifyBackupResult, 'problems'>,
  shownRoot?: string,
): DhashError {
  const shown = shownRoot ? relative(shownRoot, file) || file : file;
  const all = result.problems.map((p) => p.message);
  const first = result.problems[0] ?? { code: 'EBACKUPINVALID', message: 'unknown problem' };
  const entry = first.entry ?? '(unknown)';
  switch (first.code) {
    case 'EBACKUPNOTFOUND':
      return createError('EBACKUPNOTFOUND', { file: shown });
    case 'EBACKUPCHECKSUMMISSING':
      return createError('EBACKUPCHECKSUMMISSING', { file: shown, sha256File: `${shown}.sha256` });
    case 'ECHECKSUMMISMATCH':
      return createError('ECHECKSUMMISMATCH', {
        file: shown,
        expected: first.expected ?? '?',
        actual: first.actual ?? '?',
      });
    case 'EPATHESCAPE':
      return createError('EPATHESCAPE', { file: shown, entry, problems: all });
    case 'ECRCMISMATCH':
      return createError('ECRCMISMATCH', { file: shown, entry, problems: all });
    case 'EMANIFESTMISMATCH':
      return createError('EMANIFESTMISMATCH', { file: shown, entry, problems: all });
    case 'EWRONGENV':
      return createError('EWRONGENV', {
        file: shown,
        expected: first.expected ?? '?',
        actual: first.actual ?? '?',
        newest: first.newest ? (shownRoot ? relative(shownRoot, first.newest) : first.newest) : null,
      });
    default:
      return createError('EBACKUPINVALID', { file: shown, problems: all });
  }
}

export type { CheckZipOptions };
