// The sha256 recorded for each applied migration: the identity that detects an edited migration (its up or its down).
import { createHash } from 'node:crypto';
import type { Migration } from './migrations/migration.js';

/**
 * A migration without a `down` hashes its SQL alone (so checksums recorded before downs existed stay valid);
 * one with a `down` hashes both, so the down that runs at rollback is exactly the one reviewed and applied.
 */
export function getMigrationChecksum(migration: Pick<Migration, 'sql' | 'down'>): string {
  const hash = createHash('sha256').update(migration.sql, 'utf8');
  if (migration.down !== undefined) hash.update('\n-- down --\n', 'utf8').update(migration.down, 'utf8');
  return hash.digest('hex');
}
