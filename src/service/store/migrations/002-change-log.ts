// Migration 2: the append-only change log of library and review changes (carry-forward after a restore, fleet sync).
import type { Migration } from './migration.js';

// Never edit this text once released: its sha256 (up and down) is recorded in every database it was applied to.
export const migration002ChangeLog: Migration = {
  version: 2,
  name: 'change_log',
  sql: `
CREATE TABLE change_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'create', 'resolve')),
  entity TEXT NOT NULL CHECK (entity IN ('library_entry', 'review_item')),
  entity_id INTEGER NOT NULL,
  payload TEXT NOT NULL
);
`,
  // A new table that the release before it never reads: old hosts run unchanged against the migrated schema.
  isBackwardCompatible: true,
  down: `
DROP TABLE change_log;
DELETE FROM sqlite_sequence WHERE name = 'change_log';
`,
  // PostgreSQL: an identity column instead of AUTOINCREMENT, and no sqlite_sequence to clean in the down (the
  // identity's sequence is dropped with its table). Writers serialize on an advisory lock before appending
  // (postgres/pg-transaction.ts), so seq order is commit order there too, as it is under SQLite's single writer:
  // a follower reading `seq > lastSeq` never skips a change that commits late.
  postgres: {
    sql: `
CREATE TABLE change_log (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'create', 'resolve')),
  entity TEXT NOT NULL CHECK (entity IN ('library_entry', 'review_item')),
  entity_id BIGINT NOT NULL,
  payload TEXT NOT NULL
);
`,
    down: `
DROP TABLE change_log;
`,
  },
};
