// Migration 1: the library of known images and the low-confidence review queue.
import type { Migration } from './migration.js';

// Never edit this text once released: its sha256 is recorded in every database it was applied to.
export const migration001Initial: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE library_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  label TEXT NOT NULL,
  hash TEXT NOT NULL CHECK (length(hash) = 16 AND hash NOT GLOB '*[^0-9a-f]*'),
  source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX library_entries_hash ON library_entries (hash);

CREATE TABLE review_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  query_hash TEXT NOT NULL CHECK (length(query_hash) = 16 AND query_hash NOT GLOB '*[^0-9a-f]*'),
  query_label TEXT,
  query_source TEXT,
  candidate_id INTEGER REFERENCES library_entries (id) ON DELETE SET NULL,
  candidate_label TEXT,
  candidate_hash TEXT,
  distance INTEGER NOT NULL CHECK (distance BETWEEN 0 AND 64),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'same', 'different')),
  created_at TEXT NOT NULL,
  resolved_at TEXT,
  resolved_entry_id INTEGER REFERENCES library_entries (id) ON DELETE SET NULL
);
CREATE INDEX review_items_status ON review_items (status, id);
`,
};
