// Rollback fast path: when the backup's release is already on disk, extract only the database and config entries.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CONFIG_PREFIX, DATABASE_PATH, POSTGRES_DUMP_PATH, type BackupManifest } from '../core/backup-manifest.js';
import { openZip } from './zip-reader.js';
import type { ExtractedBackup } from './index.js';

/**
 * Writes the database entry (`database/dhash.sqlite` or `database/dhash.pgdump`) and `config/*` of an already
 * verified backup into `destDir`, re-checking each
 * written entry's sha256 against the manifest (the file could have changed since it was verified).
 */
export async function extractBackupData(
  file: string,
  destDir: string,
  manifest: BackupManifest,
): Promise<ExtractedBackup> {
  const expected = new Map(manifest.entries.map((e) => [e.path, e.sha256]));
  const zip = await openZip(file);
  try {
    await mkdir(join(destDir, 'config'), { recursive: true });
    for (const info of zip.entries) {
      if (info.isDirectory || info.isSymlink) continue;
      if (
        info.name !== manifest.database &&
        !(info.name.startsWith(CONFIG_PREFIX) && !info.name.slice(CONFIG_PREFIX.length).includes('/'))
      )
        continue;
      const out = join(destDir, info.name);
      await mkdir(dirname(out), { recursive: true });
      const digest = await zip.readEntry(info, createWriteStream(out, { flags: 'wx', mode: 0o644 }));
      if (digest.sha256 !== expected.get(info.name)) {
        await rm(destDir, { recursive: true, force: true });
        throw new Error(
          `${info.name} in ${file} hashes to ${digest.sha256}, not the manifest's ${expected.get(info.name)}: ` +
            'the backup changed after it was verified',
        );
      }
    }
  } finally {
    zip.close();
  }
  return {
    dir: destDir,
    releaseDir: null,
    databaseFile: manifest.database === DATABASE_PATH ? join(destDir, DATABASE_PATH) : null,
    postgresDumpFile: manifest.database === POSTGRES_DUMP_PATH ? join(destDir, POSTGRES_DUMP_PATH) : null,
    configDir: join(destDir, 'config'),
    manifest,
  };
}
