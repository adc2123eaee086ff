// Where the toolkit keeps things, relative to the project (repository) root: one place, so every step agrees.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface ProjectPaths {
  root: string;
  environmentsFile: string;
  qualityGatesFile: string;
  backupsDir: string;
  monitorLogsDir: string;
  notificationsOutDir: string;
  incidentsDir: string;
  premergeArtifactsDir: string;
}

export function getProjectPaths(root: string): ProjectPaths {
  return {
    root,
    environmentsFile: join(root, 'environments.json'),
    qualityGatesFile: join(root, 'quality-gates-config.json'),
    backupsDir: join(root, 'backups'),
    monitorLogsDir: join(root, 'monitor_logs'),
    notificationsOutDir: join(root, 'notifications_out'),
    incidentsDir: join(root, 'incidents'),
    premergeArtifactsDir: join(root, 'premerge_artifacts'),
  };
}

/** The nearest folder at or above `cwd` holding environments.json; `cwd` itself when there is none. */
export function findProjectRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'environments.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}
