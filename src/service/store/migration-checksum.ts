// The sha256 recorded for each applied migration: the identity that detects an edited migration.
import { createHash } from 'node:crypto';
import type { Migration } from './migrations/migration.js';

export function getMigrationChecksum(migration: Pick<Migration, 'sql'>): string {
  return createHash('sha256').update(migration.sql, 'utf8').digest('hex');
}
