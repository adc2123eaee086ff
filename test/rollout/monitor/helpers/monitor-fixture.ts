// Builds a temp environment with a journaled deploy, a scripted SignalSource, a recording notifier and rollback deps.
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EMBEDDED_LOCAL,
  resolveEnvironmentConfig,
  type ResolvedEnvironment,
} from '../../../../src/rollout/config/environments.js';
import {
  resolveQualityGates,
  validateQualityGatesFile,
  type ResolvedQualityGates,
} from '../../../../src/rollout/config/quality-gates.js';
import { createManualClock, type ManualClock } from '../../../../src/lib/clock.js';
import type { SignalValues } from '../../../../src/rollout/core/signal-values.js';
import { appendJournal } from '../../../../src/rollout/state/journal.js';
import type { AutoRollbackDeps } from '../../../../src/rollout/monitor/auto-rollback.js';
import type { IncidentInput } from '../../../../src/rollout/incident/create-incident.js';
import type { RollbackResult } from '../../../../src/rollout/rollback/rollback-from-backup.js';
import { runMonitor, type MonitorResult, type RunMonitorOptions } from '../../../../src/rollout/monitor/run-monitor.js';
import type { PollRecord } from '../../../../src/rollout/monitor/monitor-log.js';
import type { NotificationInput, Notifier } from '../../../../src/rollout/notify/index.js';
import type { SignalSource } from '../../../../src/rollout/signals/signal-source.js';
import { createSilentLogger } from '../../../../src/lib/logger.js';
import { createTempDir } from '../../../helpers/temp-dir.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const DEPLOY_START = Date.UTC(2026, 10, 28, 1, 0, 0);
export const DEPLOY_ID = 'production-20261128T010000000Z';

export async function getProductionGates(): Promise<ResolvedQualityGates> {
  return resolveQualityGates(await validateQualityGatesFile(REPO_ROOT), 'production');
}

/** A healthy service: 100 hashes a minute, all fast, no failures; `tweak` changes the values at an offset (ms). */
export function createScriptedSource(
  clock: ManualClock,
  tweak: (offsetMs: number, v: SignalValues) => SignalValues = (_o, v) => v,
): SignalSource & { calls: number } {
  const src = {
    type: 'scripted',
    calls: 0,
    async measure() {
      src.calls++;
      const offsetMs = clock.now() - DEPLOY_START;
      const n = Math.floor(offsetMs / 600); // 100 a minute
      const base: SignalValues = {
        health: { ok: true, httpStatus: 200, latencyMs: 3 },
        metrics: {
          kind: 'cumulative',
          extractionSuccess: n,
          extractionFailure: 0,
          queueLength: 4,
          hashBuckets: { '0.1': n, '2': n, '5': n, Infinity: n },
        },
        host: { cpuPercent: 10, memoryPercent: 40, diskPercent: 50 },
      };
      const value = tweak(offsetMs, base);
      return {
        value,
        startedAt: clock.now(),
        finishedAt: clock.now(),
        phase: value.health.ok && value.metrics ? 'ok' : 'error',
      } as const;
    },
  };
  return src;
}

export interface Fixture {
  root: string;
  environment: ResolvedEnvironment;
  clock: ManualClock;
  sent: NotificationInput[];
  notifier: Notifier;
  incidents: IncidentInput[];
  calls: { verify: string[]; rollback: string[]; stop: number };
  deps: AutoRollbackDeps;
  records: PollRecord[];
  run(extra: Partial<RunMonitorOptions> & { signalSource: SignalSource }): Promise<MonitorResult>;
}

export async function createMonitorFixture(
  t: { after: (fn: () => Promise<void>) => void },
  options: { startOffsetMs?: number; backupOk?: boolean; backupFile?: string; isFirstDeploy?: boolean } = {},
): Promise<Fixture> {
  const root = await createTempDir(t, 'dhash-monitor-');
  const environment = resolveEnvironmentConfig(root, 'production', { ...EMBEDDED_LOCAL, root: 'env' }, {});
  await appendJournal(environment, {
    time: new Date(DEPLOY_START).toISOString(),
    deployId: DEPLOY_ID,
    kind: 'deploy',
    step: 'deploy:start',
    status: 'started',
    releaseId: 'r2',
    ...(options.isFirstDeploy ? {} : { previousReleaseId: 'r1' }),
    ...(options.backupFile === undefined
      ? { backupFile: join(root, 'backups', 'dhash_20261128T005900000Z_production.zip') }
      : options.backupFile
        ? { backupFile: options.backupFile }
        : {}),
  });
  // The watched release serves: the monitor acts only while `current` points at it (issue 9).
  await mkdir(join(environment.releasesDir, 'r2'), { recursive: true });
  await symlink('releases/r2', environment.currentLink);
  const clock = createManualClock(DEPLOY_START + (options.startOffsetMs ?? 0));
  const sent: NotificationInput[] = [];
  const incidents: IncidentInput[] = [];
  const calls = { verify: [] as string[], rollback: [] as string[], stop: 0 };
  const notifier = {
    send: async (n: NotificationInput) => (
      sent.push(n),
      { id: 'x', event: n.event, severity: 'info', deliveries: [], outboxFiles: [] }
    ),
  } as unknown as Notifier;
  const deps: AutoRollbackDeps = {
    async getDeployFacts() {
      return { ...(options.isFirstDeploy ? {} : { previousReleaseId: 'r1' }), appliedMigrations: [] };
    },
    async verifyBackup(file) {
      calls.verify.push(file);
      const problems = options.backupOk === false ? [{ code: 'ECHECKSUMMISMATCH', message: 'sha256 differs' }] : [];
      return { file, ok: problems.length === 0, problems, manifest: null, sha256: null };
    },
    async rollBack(request) {
      calls.rollback.push(request.verified.file);
      const at = (k: number) => new Date(clock.now() + k * 1000).toISOString();
      const checks = [1, 2, 3].map((k) => ({ at: at(k), ok: true, latencyMs: 1 }));
      return {
        ok: true,
        isDryRun: false,
        strategy: request.choice.strategy,
        strategyReason: request.choice.reason,
        backupFile: request.verified.file,
        restoredReleaseId: 'r1',
        isReleaseReused: true,
        timeline: [],
        isTouched: true,
        message: 'rolled back to r1',
        healthChecks: { ok: true, checks },
        smoke: { ok: true, checks: [] },
      } as unknown as RollbackResult;
    },
    async createIncident(request) {
      incidents.push(request);
      return { id: `incident-${incidents.length}` };
    },
  };
  const records: PollRecord[] = [];
  const gates = await getProductionGates();
  const fixture: Fixture = {
    root,
    environment,
    clock,
    sent,
    notifier,
    incidents,
    calls,
    deps,
    records,
    async run(extra) {
      let settled: { ok: true; value: MonitorResult } | { ok: false; error: unknown } | undefined;
      void runMonitor({
        environment,
        clock,
        logger: createSilentLogger(),
        notifier,
        isDryRun: false,
        isFromNow: false,
        gates,
        rollbackDeps: deps,
        onPoll: (r) => records.push(r),
        ...extra,
      }).then(
        (value) => (settled = { ok: true, value }),
        (error: unknown) => (settled = { ok: false, error }),
      );
      while (!settled) {
        if (!(await clock.runNext())) await new Promise((r) => setTimeout(r, 1));
      }
      const done = settled as { ok: true; value: MonitorResult } | { ok: false; error: unknown };
      if (!done.ok) throw done.error;
      return done.value;
    },
  };
  return fixture;
}
