// Chooses the store for a location: a SQLite file (the embedded default) or a PostgreSQL URL.
import type { Clock } from '../../lib/clock.js';
import type { ServiceStore } from './service-store.js';
import { openSqliteStore } from './sqlite-store.js';

/** Where the service keeps its data; the PostgreSQL URL holds a password: never log it (store.description is safe). */
export type StoreLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

export interface OpenServiceStoreOptions {
  /** Apply pending migrations right after opening (the `serve --migrate` developer shortcut). */
  migrate?: boolean;
  clock?: Clock;
}

export async function openServiceStore(
  location: StoreLocation,
  options: OpenServiceStoreOptions = {},
): Promise<ServiceStore> {
  switch (location.engine) {
    case 'sqlite':
      return openSqliteStore(location.file, options);
    case 'postgres': {
      // Loaded only here: a SQLite service never pays for the PostgreSQL driver at start-up.
      const { openPostgresStore } = await import('./postgres/postgres-store.js');
      return openPostgresStore({ url: location.url, ...options });
    }
    default:
      throw new Error(`Unknown store engine ${JSON.stringify((location as { engine: unknown }).engine)}.`);
  }
}
