// Checks the pg_dump inside a PostgreSQL backup: its bytes against the manifest, and that pg_restore can read it.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_DUMP_PATH, type BackupManifest, type BackupProblem } from '../core/backup-manifest.js';
import { listDumpEntries } from './snapshot-postgres.js';
import { openZip } from './zip-reader.js';

/**
 * Extracts the dump entry into a private temp folder (removed afterwards), checks its sha256 against the manifest and
 * lists it with `pg_restore --list`. No problems for a backup without a PostgreSQL dump. A missing pg_restore throws
 * EPGTOOLMISSING: that is this host's problem, not the backup's.
 */
export async function checkPostgresDumpInZip(
  file: string,
  manifest: BackupManifest,
  processEnv: Record<string, string | undefined>,
): Promise<BackupProblem[]> {
  if (manifest.database !== POSTGRES_DUMP_PATH) return [];
  const expected = manifest.entries.find((e) => e.path === POSTGRES_DUMP_PATH);
  const dir = await mkdtemp(join(tmpdir(), 'dhash-pgdump-check-'));
  const dumpFile = join(dir, 'dhash.pgdump');
  try {
    const zip = await openZip(file);
    try {
      const info = zip.entries.find((e) => e.name === POSTGRES_DUMP_PATH);
      if (!info || !expected) return [];
      const digest = await zip.readEntry(info, createWriteStream(dumpFile, { flags: 'wx', mode: 0o600 }));
      if (digest.sha256 !== expected.sha256)
        return [
          {
            code: 'EMANIFESTMISMATCH',
            entry: POSTGRES_DUMP_PATH,
            message: `${POSTGRES_DUMP_PATH} hashes to ${digest.sha256}, not the manifest's ${expected.sha256}`,
          },
        ];
    } finally {
      zip.close();
    }
    try {
      await listDumpEntries(dumpFile, processEnv);
      return [];
    } catch (error) {
      if ((error as { code?: string }).code === 'EPGTOOLMISSING') throw error;
      return [
        {
          code: 'EBACKUPINVALID',
          entry: POSTGRES_DUMP_PATH,
          message: `${POSTGRES_DUMP_PATH} is not a readable pg_dump archive: ${(error as Error).message}`,
        },
      ];
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
