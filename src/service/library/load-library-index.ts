// Builds the in-memory HashIndex from the library table at service start.
import type Database from 'better-sqlite3';
import type { ServiceStore } from '../store/service-store.js';
import { HashIndex } from './hash-index.js';
import { readLibraryHashHalves } from './library-repository.js';

/** One bulk load from typed arrays: no row objects, no hash strings kept, one sort only if ids arrive out of order. */
export function loadLibraryIndex(db: Database.Database): HashIndex {
  const index = new HashIndex();
  const { ids, hi, lo } = readLibraryHashHalves(db);
  index.addHalves(ids, hi, lo);
  return index;
}

/** The same from any store, with the change-log seq the index reflects: the index follower starts there. */
export async function loadLibraryIndexFromStore(store: ServiceStore): Promise<{ index: HashIndex; seq: number }> {
  const index = new HashIndex();
  const { ids, hi, lo, seq } = await store.readLibraryHashes();
  index.addHalves(ids, hi, lo);
  return { index, seq };
}
