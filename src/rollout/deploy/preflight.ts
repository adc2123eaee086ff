// Pre-deploy validation: every check runs (none stops the others) before anything changes, and all results are
// reported.
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError, type DhashError } from '../../lib/errors.js';
import { describeGateWindow, evaluateServingGates, formatGateValue } from '../core/serving-gates.js';
import { hasQualityGatesFile, loadQualityGates } from '../config/quality-gates.js';
import { checkHealthOnce } from '../checks/health.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';
import { getExistingAncestor, getFreeBytes, getTreeSizeBytes } from '../../lib/no-space.js';
import { getBackupNeededBytes, getReleaseNeededBytes } from '../core/disk-space.js';
import { getDatabaseSizeBytes } from './database-size.js';
import type { ReleaseSource } from '../release/resolve-release-source.js';
import { createSignalSource, type SignalSource } from '../signals/signal-source.js';
import type { TargetDriver } from '../target/index.js';
import { checkPreflightLock } from './preflight-lock.js';
import { checkServicePort } from './port-check.js';
import { dryRunLocationMigrations, getMigrationLocation } from './environment-migrations.js';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** A warning never blocks; a failed check blocks with its exit code (2 config, 3 refused for safety). */
  isWarning?: boolean;
  exitCode?: 2 | 3;
  detail: string;
  /** The coded error of a failed (or warned) check, thrown as is when it is the only failure. */
  error?: DhashError;
}

export interface PreflightInput {
  environment: ResolvedEnvironment;
  driver: TargetDriver;
  clock: Clock;
  force: boolean;
  currentReleaseId?: string;
  /** Set when resolving the release already failed (bad path, checksum), so it is reported with the rest. */
  releaseCheck: PreflightCheck;
  /** The resolved release (its size is what the releases folder must hold); a plan-only source has no dir. */
  release?: ReleaseSource;
  /** Whether a backup is taken before the deploy (quick-deploy): then the backup folder must hold it. */
  isBackupPlanned?: boolean;
  /** Injected in tests; default: the environment's configured source. */
  signalSource?: SignalSource;
}

export interface PreflightReport {
  checks: PreflightCheck[];
  ok: boolean;
  pendingMigrations: number;
  fromSchemaVersion?: number;
  toSchemaVersion?: number;
}

export async function runPreflight(input: PreflightInput): Promise<PreflightReport> {
  const { environment } = input;
  const checks: PreflightCheck[] = [
    {
      name: 'preflight:config',
      ok: true,
      detail:
        `environment \`${environment.name}\` is valid ` +
        `(root ${environment.root}, ${environment.baseUrl}, target ${environment.config.target.type})`,
    },
  ];

  checks.push(await checkPreflightLock(environment, 'no deploy or rollback in progress'));

  const minFreeMb = environment.config.deploy.minFreeDiskMb;
  try {
    const fs = await statfs(getExistingAncestor(environment.root));
    const freeMb = Math.floor((fs.bavail * fs.bsize) / (1024 * 1024));
    checks.push(
      freeMb >= minFreeMb
        ? { name: 'preflight:disk', ok: true, detail: `${freeMb} MB free (minimum ${minFreeMb} MB)` }
        : {
            name: 'preflight:disk',
            ok: false,
            exitCode: 3,
            detail: `only ${freeMb} MB free, below deploy.minFreeDiskMb = ${minFreeMb} MB`,
          },
    );
  } catch (error) {
    checks.push({
      name: 'preflight:disk',
      ok: false,
      exitCode: 3,
      detail: `cannot measure free disk: ${(error as Error).message}`,
    });
  }

  checks.push(input.releaseCheck);
  checks.push(...(await checkFreeSpace(input)));

  const target = await input.driver.check().catch((error: Error) => ({ ok: false, detail: error.message }));
  checks.push({
    name: 'preflight:target',
    ok: target.ok,
    ...(target.ok ? {} : { exitCode: 2 as const }),
    detail: target.detail,
  });
  checks.push(await checkServicePort(environment, input.driver));

  if (!input.currentReleaseId) {
    checks.push({
      name: 'preflight:health',
      ok: true,
      detail: 'nothing deployed yet (first deploy): no current health to check',
    });
  } else {
    const health = await checkHealthOnce(environment.healthUrl, input.clock, 5000, getServiceAuthHeaders(environment));
    if (health.ok)
      checks.push({
        name: 'preflight:health',
        ok: true,
        detail: `current release ${input.currentReleaseId} is healthy (${health.latencyMs} ms)`,
      });
    else if (environment.config.isProduction && !input.force) {
      checks.push({
        name: 'preflight:health',
        ok: false,
        exitCode: 3,
        detail: `production is unhealthy now (${health.status ?? health.error}); pass --force to deploy over it anyway`,
      });
    } else {
      const forceNote = input.force ? '; deploying anyway (--force)' : '';
      checks.push({
        name: 'preflight:health',
        ok: true,
        isWarning: true,
        detail: `current release is unhealthy now (${health.status ?? health.error})${forceNote}`,
      });
    }
  }

  checks.push(
    input.currentReleaseId
      ? await checkServingGates(input)
      : {
          name: 'preflight:gates',
          ok: true,
          detail: 'nothing is serving yet (first deploy): no gates to judge on a current release',
        },
  );

  let pendingMigrations = 0;
  let fromSchemaVersion: number | undefined;
  let toSchemaVersion: number | undefined;
  try {
    const report = await dryRunLocationMigrations(getMigrationLocation(environment));
    pendingMigrations = report.migrations.length;
    fromSchemaVersion = report.fromVersion;
    toSchemaVersion = report.toVersion;
    checks.push(
      report.ok
        ? {
            name: 'preflight:migrations',
            ok: true,
            detail:
              `dry run on a copy: ${pendingMigrations} pending, schema ${report.fromVersion} → ${report.toVersion}` +
              (report.databaseExists ? '' : ' (no database yet)'),
          }
        : {
            name: 'preflight:migrations',
            ok: false,
            exitCode: 3,
            detail: `dry run failed at ${report.failure?.version}_${report.failure?.name}: ${report.failure?.reason}`,
          },
    );
  } catch (error) {
    // A PostgreSQL environment without its URL variable is a configuration error (exit 2), thrown as itself.
    const isUsage = isDhashError(error) && error.exitCode === 2;
    checks.push({
      name: 'preflight:migrations',
      ok: false,
      exitCode: isUsage ? 2 : 3,
      detail: `migration dry run refused: ${(error as Error).message}`,
      ...(isUsage ? { error } : {}),
    });
  }

  return { checks, ok: checks.every((c) => c.ok), pendingMigrations, fromSchemaVersion, toSchemaVersion };
}

export function formatPreflight(report: PreflightReport): string {
  return report.checks
    .map((c) => `  [${!c.ok ? 'FAIL' : c.isWarning ? 'WARN' : ' OK '}] ${c.name.padEnd(22)} ${c.detail}`)
    .join('\n');
}

const MB = 1024 * 1024;

/** The backup folder against the expected backup, the releases folder against the release to stage. */
async function checkFreeSpace(input: PreflightInput): Promise<PreflightCheck[]> {
  const { environment } = input;
  const checks: PreflightCheck[] = [];
  const currentDir = input.currentReleaseId ? join(environment.releasesDir, input.currentReleaseId) : undefined;
  const currentBytes = currentDir ? await getTreeSizeBytes(currentDir) : 0;
  const space = async (name: string, folder: string, what: string, neededBytes: number): Promise<PreflightCheck> => {
    const freeBytes = await getFreeBytes(folder);
    if (freeBytes === undefined)
      return { name, ok: true, isWarning: true, detail: `cannot measure free space in ${getExistingAncestor(folder)}` };
    if (freeBytes >= neededBytes)
      return {
        name,
        ok: true,
        detail:
          `${Math.floor(freeBytes / MB)} MB free in ${folder}, ` +
          `${Math.ceil(neededBytes / MB)} MB needed to ${what}`,
      };
    const error = createError('ENOSPACE', { folder, what, neededBytes, freeBytes, isNothingChanged: true });
    return { name, ok: false, exitCode: 3, detail: `${error.message} ${error.details}`, error };
  };
  const isPostgres = environment.database.engine === 'postgres';
  if (input.isBackupPlanned && (currentDir || isPostgres || existsSync(environment.databaseFile))) {
    // Unmeasured (server down, URL unset): a warning; preflight:migrations reports that connection as the failure.
    const database = await getDatabaseSizeBytes(environment).then(
      (bytes) => ({ bytes, problem: undefined }),
      (error: Error) => ({ bytes: 0, problem: error.message }),
    );
    const sizeNote =
      isPostgres && !database.problem ? ` (database ${Math.ceil(database.bytes / MB)} MB by pg_database_size)` : '';
    const what = `write the pre-deploy backup${sizeNote}`;
    const needed = getBackupNeededBytes(database.bytes, currentBytes);
    const check = await space('preflight:disk-backup', environment.backupsDir, what, needed);
    checks.push(
      database.problem && check.ok
        ? { ...check, isWarning: true, detail: `${check.detail}, database not counted: ${database.problem}` }
        : check,
    );
  }
  // A plan-only source (dry run of the checkout) is not built yet: the serving release is the best estimate of its
  // size.
  const releaseBytes = input.release?.dir ? await getTreeSizeBytes(input.release.dir) : currentBytes;
  if (releaseBytes > 0) {
    checks.push(
      await space(
        'preflight:disk-releases',
        environment.releasesDir,
        `stage release ${input.release?.manifest.releaseId ?? ''}`.trim(),
        getReleaseNeededBytes(releaseBytes),
      ),
    );
  }
  return checks;
}

/**
 * One poll of the configured source, every `rollback` gate judged on the release serving now: a gate already violated
 * would roll the new release back for a condition it did not cause. Refused in production (unless --force), warned
 * elsewhere.
 */
async function checkServingGates(input: PreflightInput): Promise<PreflightCheck> {
  const { environment, clock } = input;
  const name = 'preflight:gates';
  if (!hasQualityGatesFile(environment.paths.root))
    return { name, ok: true, isWarning: true, detail: 'no quality-gates-config.json: no gates to judge' };
  try {
    const { gates } = await loadQualityGates(environment.paths.root, environment.name);
    const source = input.signalSource ?? createSignalSource(environment, { clock });
    const measurement = await source.measure({
      windows: { extractionMs: gates.extractionFailureRate.windowMs, p95Ms: gates.p95HashTime.windowMs },
      timeoutMs: 5000,
    });
    if (!measurement.value.metrics) {
      return {
        name,
        ok: true,
        isWarning: true,
        detail:
          "could not read the serving release's signals " +
          `(${measurement.value.metricsError ?? measurement.message ?? 'no metrics'}); gates not judged`,
      };
    }
    const isCumulative = measurement.value.metrics.kind === 'cumulative';
    const results = evaluateServingGates(gates, measurement.value, clock.now());
    const violated = results.filter((r) => r.verdict === 'violated');
    if (violated.length === 0) {
      const gateValues = results
        .map(
          (r) => `${r.name} ${r.verdict === 'insufficient-data' ? 'too few events' : formatGateValue(r.value, r.unit)}`,
        )
        .join(', ');
      return {
        name,
        ok: true,
        detail: `${gateValues} on ${input.currentReleaseId}: no rollback gate violated`,
      };
    }
    const errors = violated.map((r) =>
      createError('EGATEVIOLATEDNOW', {
        env: environment.name,
        gate: r.name,
        value: formatGateValue(r.value, r.unit),
        threshold: formatGateValue(r.threshold, r.unit),
        window: describeGateWindow(r, isCumulative),
        releaseId: input.currentReleaseId ?? '(unknown)',
      }),
    );
    const detail = errors.map((e) => e.message).join(' ') + ` ${errors[0].details}`;
    if (environment.config.isProduction && !input.force)
      return { name, ok: false, exitCode: 3, detail, error: errors[0] };
    return {
      name,
      ok: true,
      isWarning: true,
      detail: `${detail}${input.force ? ' Deploying anyway (--force).' : ''}`,
      error: errors[0],
    };
  } catch (error) {
    if (isDhashError(error))
      return {
        name,
        ok: false,
        exitCode: error.exitCode === 3 ? 3 : 2,
        detail: `${error.message} ${error.details}`,
        error,
      };
    return {
      name,
      ok: true,
      isWarning: true,
      detail: `could not judge the gates on the serving release: ${(error as Error).message}`,
    };
  }
}
