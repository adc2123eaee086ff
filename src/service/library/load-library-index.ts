// Builds the in-memory HashIndex from the library table at service start.
import type Database from 'better-sqlite3';
import { HashIndex } from './hash-index.js';
import { iterateLibraryHashes } from './library-repository.js';

export function loadLibraryIndex(db: Database.Database): HashIndex {
  const index = new HashIndex();
  index.addMany(iterateLibraryHashes(db));
  return index;
}
