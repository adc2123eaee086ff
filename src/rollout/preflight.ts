// Pre-deploy validation: every check runs (none stops the others) before anything changes, and all results are reported.
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ResolvedEnvironment } from './config/environments.js';
import type { Clock } from './core/clock.js';
import { checkHealthOnce } from './health.js';
import { describeLockHolder, getLockFile, isLockStale, readLock } from './lock.js';
import type { TargetDriver } from './target/index.js';
import { dryRunMigrationsOnFile } from '../service/store/index.js';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** A warning never blocks; a failed check blocks with its exit code (2 config, 3 refused for safety). */
  isWarning?: boolean;
  exitCode?: 2 | 3;
  detail: string;
}

export interface PreflightInput {
  env: ResolvedEnvironment;
  driver: TargetDriver;
  clock: Clock;
  force: boolean;
  currentReleaseId?: string;
  /** Set when resolving the release already failed (bad path, checksum), so it is reported with the rest. */
  releaseCheck: PreflightCheck;
}

export interface PreflightReport {
  checks: PreflightCheck[];
  ok: boolean;
  pendingMigrations: number;
  fromSchemaVersion?: number;
  toSchemaVersion?: number;
}

/** The nearest existing folder at or above `path` (the root may not exist before the first deploy). */
function getExistingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export async function runPreflight(input: PreflightInput): Promise<PreflightReport> {
  const { env } = input;
  const checks: PreflightCheck[] = [{ name: 'preflight:config', ok: true, detail: `environment \`${env.name}\` is valid (root ${env.root}, ${env.baseUrl}, target ${env.config.target.type})` }];

  const lock = await readLock(env);
  if (!lock) checks.push({ name: 'preflight:lock', ok: true, detail: 'no deploy or rollback in progress' });
  else if (isLockStale(lock)) checks.push({ name: 'preflight:lock', ok: true, isWarning: true, detail: `stale lock (${describeLockHolder(lock)}; that process is gone) will be cleared` });
  else checks.push({ name: 'preflight:lock', ok: false, exitCode: 3, detail: `held: ${describeLockHolder(lock)}; wait for it, or if you are sure it is gone remove ${getLockFile(env)}` });

  const minFreeMb = env.config.deploy.minFreeDiskMb;
  try {
    const fs = await statfs(getExistingAncestor(env.root));
    const freeMb = Math.floor((fs.bavail * fs.bsize) / (1024 * 1024));
    checks.push(
      freeMb >= minFreeMb
        ? { name: 'preflight:disk', ok: true, detail: `${freeMb} MB free (minimum ${minFreeMb} MB)` }
        : { name: 'preflight:disk', ok: false, exitCode: 3, detail: `only ${freeMb} MB free, below deploy.minFreeDiskMb = ${minFreeMb} MB` },
    );
  } catch (error) {
    checks.push({ name: 'preflight:disk', ok: false, exitCode: 3, detail: `cannot measure free disk: ${(error as Error).message}` });
  }

  checks.push(input.releaseCheck);

  const target = await input.driver.check().catch((error: Error) => ({ ok: false, detail: error.message }));
  checks.push({ name: 'preflight:target', ok: target.ok, ...(target.ok ? {} : { exitCode: 2 as const }), detail: target.detail });

  if (!input.currentReleaseId) {
    checks.push({ name: 'preflight:health', ok: true, detail: 'nothing deployed yet (first deploy): no current health to check' });
  } else {
    const health = await checkHealthOnce(env.healthUrl, input.clock, 5000);
    if (health.ok) checks.push({ name: 'preflight:health', ok: true, detail: `current release ${input.currentReleaseId} is healthy (${health.latencyMs} ms)` });
    else if (env.config.isProduction && !input.force) {
      checks.push({ name: 'preflight:health', ok: false, exitCode: 3, detail: `production is unhealthy now (${health.status ?? health.error}); pass --force to deploy over it anyway` });
    } else {
      checks.push({ name: 'preflight:health', ok: true, isWarning: true, detail: `current release is unhealthy now (${health.status ?? health.error})${input.force ? '; deploying anyway (--force)' : ''}` });
    }
  }

  let pendingMigrations = 0;
  let fromSchemaVersion: number | undefined;
  let toSchemaVersion: number | undefined;
  try {
    const report = await dryRunMigrationsOnFile(env.databaseFile);
    pendingMigrations = report.migrations.length;
    fromSchemaVersion = report.fromVersion;
    toSchemaVersion = report.toVersion;
    checks.push(
      report.ok
        ? { name: 'preflight:migrations', ok: true, detail: `dry run on a copy: ${pendingMigrations} pending, schema ${report.fromVersion} → ${report.toVersion}${report.databaseExists ? '' : ' (no database yet)'}` }
        : { name: 'preflight:migrations', ok: false, exitCode: 3, detail: `dry run failed at ${report.failure?.version}_${report.failure?.name}: ${report.failure?.reason}` },
    );
  } catch (error) {
    checks.push({ name: 'preflight:migrations', ok: false, exitCode: 3, detail: `migration dry run refused: ${(error as Error).message}` });
  }

  return { checks, ok: checks.every((c) => c.ok), pendingMigrations, fromSchemaVersion, toSchemaVersion };
}

export function formatPreflight(report: PreflightReport): string {
  return report.checks.map((c) => `  [${!c.ok ? 'FAIL' : c.isWarning ? 'WARN' : ' OK '}] ${c.name.padEnd(22)} ${c.detail}`).join('\n');
}
