// Atomic filesystem changes: write under a temporary name in the same folder, fsync, then rename.
import { mkdir, open, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temporary sibling name that never looks like the finished file (".<name>.tmp-<random>"). */
export function getTempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `data` so that readers see either the old file or the complete new one, never a partial file. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = getTempSibling(path);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // A failed write (a full disk) must not leave the temp file behind, any more than a failed rename.
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Points `linkPath` at `target` atomically: a new symlink under a temp name, renamed over the old one. */
export async function replaceSymlinkAtomic(target: string, linkPath: string): Promise<void> {
  const temp = getTempSibling(linkPath);
  await symlink(target, temp);
  try {
    await rename(temp, linkPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
