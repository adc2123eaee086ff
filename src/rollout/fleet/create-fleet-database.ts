// The fleet's PostgreSQL behind FleetDatabase: the release's own migrations against the live schema, the environment's
// backup (pg_dump in the zip), and the PostgreSQL migration runner.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { Clock } from '../../lib/clock.js';
import { isDhashError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createBackup } from '../backup/create-backup.js';
import { MIGRATIONS, type Migration } from '../../service/store/migrations/migration-list.js';
import { createPostgresPool, describePostgresUrl } from '../../service/store/postgres/pg-connection.js';
import {
  applyPendingPostgresMigrations,
  assertPostgresMigratable,
} from '../../service/store/postgres/pg-migration-runner.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetDatabase, FleetMigration } from './fleet-database.js';
import type { FleetRelease } from './fleet-release.js';

/** Undefined when the URL variable is not set (preflight reports EDATABASEURLMISSING naming it). */
export async function createFleetDatabase(
  environment: ResolvedEnvironment,
  fleet: Pick<FleetConfig, 'databaseUrlEnv'>,
  options: {
    release: FleetRelease | undefined;
    processEnv: Record<string, string | undefined>;
    clock: Clock;
    logger: Logger;
  },
): Promise<FleetDatabase | undefined> {
  const url = options.processEnv[fleet.databaseUrlEnv];
  if (!url) return undefined;
  const migrations = await loadReleaseMigrations(options.release?.dir);
  let pool: pg.Pool | undefined;
  const getPool = () => (pool ??= createPostgresPool(url, { maxConnections: 2 }));
  const describe = (m: Migration): FleetMigration => ({
    version: m.version,
    name: m.name,
    isBackwardCompatible: m.isBackwardCompatible === true,
    hasDown: m.down !== undefined,
  });
  return {
    description: describePostgresUrl(url),
    async getPendingMigrations() {
      // Refuses an edited migration or a database ahead of the release (exit 3) before anything runs.
      const status = await assertPostgresMigratable(getPool(), { migrations });
      return {
        fromVersion: status.currentVersion,
        toVersion: status.latestVersion,
        pending: status.pending.map(describe),
      };
    },
    async backUp() {
      try {
        const backup = await createBackup(environment, {
          clock: options.clock,
          logger: options.logger,
          reason: 'pre-deploy',
          processEnv: options.processEnv,
        });
        return { file: backup.file, detail: `sha256 ${backup.sha256.slice(0, 12)}…, verified` };
      } catch (error) {
        // A first rollout onto an empty database: there is nothing anyone could lose yet.
        if (isDhashError(error, 'ENOTHINGTOBACKUP')) return { detail: `nothing to back up yet (${error.message})` };
        throw error;
      }
    },
    async migrate() {
      const report = await applyPendingPostgresMigrations(getPool(), { clock: options.clock, migrations });
      const applied = report.applied.map((a) => describe(migrations.find((m) => m.version === a.version)!));
      return { fromVersion: report.fromVersion, toVersion: report.toVersion, applied };
    },
    async close() {
      const ending = pool;
      pool = undefined;
      await ending?.end();
    },
  };
}

/**
 * The migrations the release carries (its own dist/), so an artifact built elsewhere is judged by what it will run;
 * the checkout's when only planning (nothing unpacked) or when the release has none.
 */
async function loadReleaseMigrations(dir: string | undefined): Promise<readonly Migration[]> {
  const file = dir ? join(dir, 'dist', 'service', 'store', 'migrations', 'migration-list.js') : '';
  if (!file || !existsSync(file)) return MIGRATIONS;
  const loaded = (await import(pathToFileURL(file).href)) as { MIGRATIONS?: readonly Migration[] };
  return loaded.MIGRATIONS ?? MIGRATIONS;
}
