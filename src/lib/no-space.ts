// A full disk, however it surfaces (ENOSPC from a write, SQLITE_FULL from SQLite), becomes the one coded ENOSPACE.
import { existsSync } from 'node:fs';
import { readdir, lstat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createError, isDhashError, type DhashError } from './errors.js';

/** True for ENOSPC / EDQUOT (quota) from Node, SQLITE_FULL from better-sqlite3, anywhere in the `cause` chain. */
export function isNoSpaceError(error: unknown): boolean {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
    if (/database or disk is full/i.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}

/** The nearest existing folder at or above `path` (a folder may not exist before its first write). */
export function getExistingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Bytes an unprivileged process may still write in the filesystem holding `folder`; undefined when unmeasurable. */
export async function getFreeBytes(folder: string): Promise<number | undefined> {
  try {
    const fs = await statfs(getExistingAncestor(folder));
    return fs.bavail * fs.bsize;
  } catch {
    return undefined;
  }
}

/** Total size of the regular files below `dir` (symlinks not followed); 0 when it does not exist. */
export async function getTreeSizeBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) total += (await lstat(full).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  return total;
}

export interface NoSpaceContext {
  /** The folder whose filesystem is full (named in the message). */
  folder: string;
  /** What could not be written, after "to": `write the backup`, `stage release X`. */
  what: string;
  neededBytes?: number;
  /** True when the failed write was cleaned up and nothing the environment serves changed (exit 3, else 4). */
  isNothingChanged: boolean;
}

/** ENOSPACE for `error` when it is a full disk (free space measured now), else undefined. */
export async function toNoSpaceError(error: unknown, context: NoSpaceContext): Promise<DhashError | undefined> {
  if (isDhashError(error, 'ENOSPACE')) return error;
  if (!isNoSpaceError(error)) return undefined;
  const freeBytes = await getFreeBytes(context.folder);
  return createError('ENOSPACE', { ...context, freeBytes }, error);
}

/** Rethrows `error`, as ENOSPACE when it is a full disk: for `.catch()` at a write's edge. Never returns. */
export async function rethrowAsNoSpace(error: unknown, context: NoSpaceContext): Promise<never> {
  throw (await toNoSpaceError(error, context)) ?? error;
}
