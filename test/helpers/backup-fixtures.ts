// Builds a project with a deployed-looking environment for backup tests:
// a release tree with node_modules, `current`, a migrated database.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase, closeDatabase, type Db } from '../../src/service/store/index.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/rollout/config/environments.js';

export interface BackupFixture {
  projectRoot: string;
  environment: ResolvedEnvironment;
  releaseDir: string;
}

/** environments.json with `staging` and `production` below `projectRoot/.dhash/`; backups in `projectRoot/backups`. */
export async function createBackupProject(projectRoot: string): Promise<void> {
  const environments = {
    environments: {
      staging: { root: '.dhash/staging', service: { host: '127.0.0.1', port: 18788 } },
      production: { root: '.dhash/production', isProduction: true, service: { host: '127.0.0.1', port: 18789 } },
    },
  };
  await writeFile(join(projectRoot, 'environments.json'), JSON.stringify(environments, null, 2));
}

/**
 * A release `r1` (dist, package.json, release.json, node_modules with an executable and a .bin symlink) made current.
 */
export async function createDeployedEnvironment(
  projectRoot: string,
  name = 'staging',
  options: { rows?: number } = {},
): Promise<BackupFixture> {
  const environment = await resolveEnvironment(projectRoot, name, {});
  const releaseDir = join(environment.releasesDir, 'r1');
  await mkdir(join(releaseDir, 'dist', 'cli'), { recursive: true });
  await mkdir(join(releaseDir, 'node_modules', 'left-pad', 'bin'), { recursive: true });
  await mkdir(join(releaseDir, 'node_modules', '.bin'), { recursive: true });
  await writeFile(join(releaseDir, 'dist', 'cli', 'main.js'), 'console.log("dhash r1");\n');
  await writeFile(join(releaseDir, 'package.json'), JSON.stringify({ name: 'dhash', version: '0.1.0' }));
  await writeFile(
    join(releaseDir, 'release.json'),
    JSON.stringify({
      releaseId: 'r1',
      version: '0.1.0',
      gitSha: 'abc1234',
      createdAt: '2026-11-28T00:00:00.000Z',
      contentSha256: 'c'.repeat(64),
    }),
  );
  await writeFile(join(releaseDir, 'node_modules', 'left-pad', 'index.js'), 'module.exports = (s) => s;\n'.repeat(200));
  await writeFile(join(releaseDir, 'node_modules', 'left-pad', 'bin', 'cli.js'), '#!/usr/bin/env node\n', {
    mode: 0o755,
  });
  await writeFile(join(releaseDir, 'node_modules', 'left-pad', 'logo.png'), Buffer.alloc(3000, 7));
  await symlink('../left-pad/bin/cli.js', join(releaseDir, 'node_modules', '.bin', 'left-pad'));
  await symlink('releases/r1', environment.currentLink);
  await mkdir(environment.sharedDir, { recursive: true });
  await writeFile(join(environment.sharedDir, 'service.json'), JSON.stringify({ maxPixels: 1000 }));
  const db = openDatabase(environment.databaseFile, { migrate: true });
  createRowsTable(db, options.rows ?? 100);
  closeDatabase(db);
  return { projectRoot, environment, releaseDir };
}

/** A test table outside the service schema: `backup_rows(id, payload)` with `count` rows. */
export function createRowsTable(db: Db, count: number): void {
  db.exec('CREATE TABLE IF NOT EXISTS backup_rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO backup_rows (payload) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(Buffer.alloc(200, i % 251));
  })();
}
