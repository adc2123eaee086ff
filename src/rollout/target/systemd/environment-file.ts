// A systemd EnvironmentFile holding secrets: written owner-only (0600) and atomically, in service.env's format.
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../../lib/atomic-file.js';
import { formatServiceEnv } from '../../host/service-env.js';

/** Owner-only: systemd (PID 1) reads the file before dropping to the unit's User=, so nobody else needs to. */
export const ENVIRONMENT_FILE_MODE = 0o600;

/**
 * Writes `vars` to `file` (temp + rename, mode 0600 from the first byte), unless the file already holds exactly that
 * text with that mode. Throws ESERVICEENVINVALID (nothing written) when a value cannot be written; the values never
 * reach an error.
 */
export async function writeEnvironmentFile(
  file: string,
  vars: Record<string, string>,
  writtenBy: string,
): Promise<{ isChanged: boolean }> {
  const text = formatServiceEnv(vars, file, writtenBy);
  const info = await stat(file).catch(() => undefined);
  const isOwnerOnly = info !== undefined && (info.mode & 0o777) === ENVIRONMENT_FILE_MODE;
  if (isOwnerOnly && (await readFile(file, 'utf8').catch(() => undefined)) === text) return { isChanged: false };
  await writeFileAtomic(file, text, { mode: ENVIRONMENT_FILE_MODE });
  return { isChanged: true };
}
