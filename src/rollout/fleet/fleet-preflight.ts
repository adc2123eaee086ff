// Fleet pre-rollout validation: every host checked over ssh, the lock, the database and its pending migrations, the
// service environment and the gates on what serves now; every check runs and all results are reported.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError } from '../../lib/errors.js';
import type { PreflightCheck } from '../deploy/preflight.js';
import { checkPreflightLock } from '../deploy/preflight-lock.js';
import { describeLockHolder } from '../state/lock.js';
import type { FleetHostOps, HostReachability, HostStatus } from '../target/ssh/host-ops.js';
import type { FleetConfig } from './fleet-config.js';
import type { FleetDatabase, PendingMigrations } from './fleet-database.js';
import { checkServingFleet } from './fleet-serving-gates.js';
import { getServiceEnv } from './fleet-service-env.js';
import type { FleetSignalSource } from './fleet-signals.js';
import { getErrorCode, HOST_KEY_CODES, isUnreachableCode } from './fleet-run.js';

export interface FleetHostCheck {
  name: string;
  reachability: HostReachability;
  /** The host's status when it could be read: its current release is its rollback target. */
  status?: HostStatus;
  isUnreachable: boolean;
}

export interface FleetPreflightReport {
  checks: PreflightCheck[];
  ok: boolean;
  hosts: FleetHostCheck[];
  pending?: PendingMigrations;
  /** What the rollout writes into each updated host's shared/service.env; undefined: left as the hosts have it. */
  serviceEnv?: Record<string, string>;
  pendingMigrations: number;
}

export interface FleetPreflightInput {
  environment: ResolvedEnvironment;
  fleet: FleetConfig;
  ops: FleetHostOps[];
  database: FleetDatabase | undefined;
  gates: ResolvedQualityGates;
  signals: FleetSignalSource;
  releaseCheck: PreflightCheck;
  clock: Clock;
  force: boolean;
  processEnv: Record<string, string | undefined>;
}

export async function runFleetPreflight(input: FleetPreflightInput): Promise<FleetPreflightReport> {
  const { environment } = input;
  const checks: PreflightCheck[] = [
    {
      name: 'preflight:config',
      ok: true,
      detail:
        `environment \`${environment.name}\` is a fleet of ${input.ops.length} host(s) ` +
        `in ${input.fleet.plan.waves.length} wave(s), database ${input.database?.description ?? '(not reachable)'}`,
    },
    await checkPreflightLock(environment, 'no rollout, deploy or rollback in progress'),
    input.releaseCheck,
  ];
  const [hosts, database] = await Promise.all([
    Promise.all(input.ops.map((ops) => checkHost(ops))),
    checkDatabase(input),
  ]);
  checks.push(...hosts.map((h) => describeHostCheck(h)));
  const unreachable = hosts.filter((h) => h.isUnreachable).map((h) => h.name);
  const { maxUnavailable } = input.fleet.plan;
  checks.push(
    unreachable.length <= maxUnavailable
      ? {
          name: 'preflight:unavailable',
          ok: true,
          ...(unreachable.length ? { isWarning: true } : {}),
          detail:
            `${unreachable.length} host(s) unreachable` +
            `${unreachable.length ? ` (${unreachable.join(', ')})` : ''}, maxUnavailable ${maxUnavailable}`,
        }
      : {
          name: 'preflight:unavailable',
          ok: false,
          exitCode: 3,
          detail:
            `${unreachable.length} host(s) unreachable (${unreachable.join(', ')}), more than maxUnavailable ` +
            `${maxUnavailable}: bring them back or raise environments.${environment.name}.target.maxUnavailable`,
        },
  );
  checks.push(...database.checks);
  // Hosts that could not be asked may be serving: only a fleet known to serve nothing skips the refusal.
  const isAnythingServing = hosts.some((h) => h.status?.currentReleaseId !== undefined || !h.status);
  if (database.pending) checks.push(judgeMigrations(environment.name, database.pending, isAnythingServing));
  const serviceEnv = getServiceEnv(input, hosts);
  checks.push(serviceEnv.check);
  checks.push(
    await checkServingFleet({ ...input, hosts: hosts.filter((h) => h.status?.currentReleaseId !== undefined) }),
  );
  return {
    checks,
    ok: checks.every((c) => c.ok),
    hosts,
    ...(database.pending ? { pending: database.pending } : {}),
    ...(serviceEnv.vars ? { serviceEnv: serviceEnv.vars } : {}),
    pendingMigrations: database.pending?.pending.length ?? 0,
  };
}

/** ssh reachability, then the host's status (its current release); an unreachable host is counted, not refused. */
async function checkHost(ops: FleetHostOps): Promise<FleetHostCheck> {
  const name = ops.host.name;
  const reachability = await ops.check();
  if (!reachability.ok) return { name, reachability, isUnreachable: isUnreachableCode(reachability.code) };
  try {
    return { name, reachability, status: await ops.status(), isUnreachable: false };
  } catch (error) {
    const code = getErrorCode(error);
    const failed = { name: 'host:ssh' as const, ok: false, detail: `status: ${(error as Error).message}` };
    return {
      name,
      reachability: { ...reachability, ok: false, checks: [...reachability.checks, failed], ...(code ? { code } : {}) },
      isUnreachable: isUnreachableCode(code),
    };
  }
}

function describeHostCheck(h: FleetHostCheck): PreflightCheck {
  const name = `preflight:host:${h.name}`;
  const failed = h.reachability.checks.find((c) => !c.ok);
  if (h.isUnreachable)
    return {
      name,
      ok: true,
      isWarning: true,
      detail: `unreachable (counts against maxUnavailable): ${failed?.detail}`,
    };
  if (!h.reachability.ok) {
    const isKey = HOST_KEY_CODES.includes(h.reachability.code ?? '');
    return {
      name,
      ok: false,
      exitCode: 3,
      detail:
        `${isKey ? 'host key refused' : 'not usable'}: ` + `${failed?.detail ?? h.reachability.code ?? 'check failed'}`,
    };
  }
  const lock = h.status?.lock;
  if (lock && !lock.isStale)
    return {
      name,
      ok: false,
      exitCode: 3,
      detail: `its deploy lock is held (${describeLockHolder(lock)}); wait for it or release it on the host`,
    };
  const current = h.status?.currentReleaseId;
  return {
    name,
    ok: true,
    detail:
      `${h.reachability.checks.map((c) => c.name.replace('host:', '')).join(', ')} ok; ` +
      `current ${current ?? '(none: first deploy of this host)'}` +
      `${h.status?.health?.ok === false ? ', NOT healthy now' : ''}`,
  };
}

/** The URL is set, the database answers, and every pending migration is one old releases can run against. */
async function checkDatabase(
  input: FleetPreflightInput,
): Promise<{ checks: PreflightCheck[]; pending?: PendingMigrations }> {
  const { environment, fleet } = input;
  if (!input.database) {
    const error = createError('EDATABASEURLMISSING', { env: environment.name, variable: fleet.databaseUrlEnv });
    return {
      checks: [
        { name: 'preflight:database', ok: false, exitCode: 2, detail: `${error.message} ${error.details}`, error },
      ],
    };
  }
  let pending: PendingMigrations;
  try {
    pending = await input.database.getPendingMigrations();
  } catch (error) {
    const exitCode = isDhashError(error) && error.exitCode === 2 ? 2 : 3;
    const detail = isDhashError(error) ? `${error.message} ${error.details}` : (error as Error).message;
    return {
      checks: [{ name: 'preflight:database', ok: false, exitCode, detail: `cannot read the migrations: ${detail}` }],
    };
  }
  return {
    checks: [
      { name: 'preflight:database', ok: true, detail: `${input.database.description}: schema ${pending.fromVersion}` },
    ],
    pending,
  };
}

/**
 * Hosts not yet updated keep serving on the migrated database during the waves, so every pending migration must be
 * one the release before it runs against. A fleet that serves nothing yet (its first rollout) has no old code to
 * protect.
 */
function judgeMigrations(envName: string, pending: PendingMigrations, isAnythingServing: boolean): PreflightCheck {
  const name = 'preflight:migrations';
  const breaking = pending.pending.filter((m) => !m.isBackwardCompatible);
  if (breaking.length > 0 && isAnythingServing) {
    const error = createError('EMIGRATIONNOTBACKWARDCOMPATIBLE', { env: envName, migrations: breaking });
    return { name, ok: false, exitCode: 3, detail: error.message, error };
  }
  const range = `schema ${pending.fromVersion} → ${pending.toVersion}`;
  const detail = !pending.pending.length
    ? `no pending migrations (schema ${pending.fromVersion})`
    : breaking.length
      ? `${pending.pending.length} pending (${range}), applied once before wave 1; nothing serves yet, so ` +
        'none has to be backward compatible'
      : `${pending.pending.length} pending, all backward compatible (${range}): applied once before wave 1`;
  return { name, ok: true, detail };
}
