// manifest.json of premerge_artifacts/: every file with its size and sha256, so reviewers can check what they
// downloaded.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface ArtifactEntry {
  path: string;
  sizeBytes: number;
  sha256: string;
}

export async function listArtifactFiles(dir: string): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && relative(dir, full) !== 'manifest.json') {
        const bytes = await readFile(full);
        out.push({
          path: relative(dir, full).split(sep).join('/'),
          sizeBytes: (await stat(full)).size,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
