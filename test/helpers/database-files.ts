// Test helper: the sha256 of a SQLite database file and its -wal (absent files hash as "absent").
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

export function hashFile(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

export function hashDatabaseFiles(file: string): { db: string; wal: string; hasShm: boolean } {
  return { db: hashFile(file), wal: hashFile(`${file}-wal`), hasShm: existsSync(`${file}-shm`) };
}
