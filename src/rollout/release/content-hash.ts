// The content hash of a release tree: sha256 over the sorted file list and every file's bytes (symlinks by target).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Files whose content describes the tree rather than belongs to it. */
export const RELEASE_MANIFEST_FILE = 'release.json';

/** Relative paths of every file and symlink below `dir`, sorted, '/'-separated; `release.json` at the top excluded. */
export async function listReleaseFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (path === RELEASE_MANIFEST_FILE) continue;
      if (entry.isDirectory()) await walk(path);
      else out.push(path);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Deterministic for identical trees wherever they are (relocatable): paths are relative, mtimes ignored.
 * Files are digested in parallel (bounded), then combined in sorted order.
 */
export async function computeContentSha256(dir: string, options: { concurrency?: number } = {}): Promise<string> {
  const files = await listReleaseFiles(dir);
  const records: string[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      records[i] = await describeFile(dir, files[i]);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  const hash = createHash('sha256');
  for (const record of records) hash.update(record);
  return hash.digest('hex');
}

async function describeFile(dir: string, rel: string): Promise<string> {
  const full = join(dir, rel);
  const info = await lstat(full);
  if (info.isSymbolicLink()) return `L\0${rel}\0${await readlink(full)}\n`;
  const digest = createHash('sha256');
  if (info.size <= 8 * 1024 * 1024) digest.update(await readFile(full));
  else {
    await new Promise<void>((resolve, reject) => {
      createReadStream(full)
        .on('data', (chunk) => digest.update(chunk))
        .on('end', resolve)
        .on('error', reject);
    });
  }
  return `F\0${rel}\0${info.size}\0${info.mode & 0o111 ? 'x' : '-'}\0${digest.digest('hex')}\n`;
}
