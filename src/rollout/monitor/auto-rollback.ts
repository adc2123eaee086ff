// Auto-rollback after a rollback gate is violated: choose the strategy, verify the deploy's backup once, roll back,
// report, open the incident.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import { parseBackupName } from '../core/backup-name.js';
import type { GateResult } from '../core/gates.js';
import {
  chooseRollbackStrategy,
  FIRST_DEPLOY_REASON,
  formatRollbackStrategy,
  type AppliedMigrationFact,
  type RollbackStrategy,
  type RollbackStrategyChoice,
} from '../core/rollback-strategy.js';
import type { Logger } from '../../lib/logger.js';
import type { NotificationInput, Notifier } from '../notify/index.js';
import type { TimelineEntry } from '../deploy/step-runner.js';
import type { IncidentDelivery, IncidentInput, IncidentRollback } from '../incident/create-incident.js';
import type { RollbackResult } from '../rollback/rollback-from-backup.js';
import { formatBackupProblems, type VerifiedBackup } from '../rollback/rollback-verify.js';
import { describeRecovery } from '../rollback/carry-forward.js';

/**
 * The incident as the monitor hands it over: an IncidentInput whose deliveries are always listed (monitor/index.ts
 * names it).
 */
export type IncidentRequest = IncidentInput & { deliveries: IncidentDelivery[] };

/** The effectful parts, injected so the decision flow is testable; the real wiring is rollback-deps.ts. */
export interface AutoRollbackDeps {
  /** What the deploy journal says the deploy did; never throws (unknown facts choose the safest strategy). */
  getDeployFacts(
    deployId: string,
  ): Promise<{ previousReleaseId?: string; appliedMigrations: AppliedMigrationFact[] | undefined }>;
  /** The one verification of the backup (sha256 against its .sha256, manifest, environment); never throws. */
  verifyBackup(file: string): Promise<VerifiedBackup>;
  /**
   * The rollback by strategy, falling back to restore with carry-forward; throws only when it refused before touching
   * anything.
   */
  rollBack(request: {
    choice: RollbackStrategyChoice & { strategy: RollbackStrategy };
    previousReleaseId: string;
    appliedVersions: number[];
    verified: VerifiedBackup;
  }): Promise<RollbackResult>;
  createIncident(input: IncidentInput): Promise<{ id: string }>;
}

export interface AutoRollbackResult {
  status: 'succeeded' | 'failed' | 'blocked';
  strategy?: RollbackStrategy | 'none';
  backupFile?: string;
  incidentId?: string;
  thirdOkHealthAt?: string;
  finishedAt: string;
  reason: string;
}

/** The deploy's own backup when the journal recorded one, else the newest backup of the env taken before the deploy. */
export async function findRollbackBackup(
  backupsDir: string,
  envName: string,
  deploy: { backupFile?: string; startedAtMs: number },
): Promise<string | undefined> {
  if (deploy.backupFile) return deploy.backupFile;
  const names = await readdir(backupsDir).catch(() => [] as string[]);
  const before = names
    .map((n) => parseBackupName(n))
    .filter((p) => p !== null && p.env === envName && p.createdAtMs < deploy.startedAtMs)
    .sort((a, b) => b!.createdAtMs - a!.createdAtMs);
  return before[0] ? join(backupsDir, before[0].name) : undefined;
}

/** When the third consecutive OK health check happened (the rollback's "healthy again" moment). */
export function getThirdConsecutiveOkAt(checks: { at: string; ok: boolean }[]): string | undefined {
  let streak = 0;
  for (const c of checks) {
    streak = c.ok ? streak + 1 : 0;
    if (streak === 3) return c.at;
  }
  return undefined;
}

interface Input {
  env: string;
  deployId: string;
  releaseId: string;
  trigger: GateResult;
  backupFile: string | undefined;
  monitorLogs: string[];
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  deps: AutoRollbackDeps;
  detectedAtMs: number;
  priorDeliveries?: IncidentDelivery[];
}

export async function performAutoRollback(input: Input): Promise<AutoRollbackResult> {
  const { clock, deps, trigger } = input;
  const iso = () => new Date(clock.now()).toISOString();
  const timeline: TimelineEntry[] = [
    {
      time: new Date(input.detectedAtMs).toISOString(),
      step: 'monitor:evaluate',
      status: 'failed',
      detail: `${trigger.name} = ${trigger.value} ${trigger.unit} > ${trigger.threshold}`,
    },
  ];
  const deliveries: IncidentDelivery[] = [...(input.priorDeliveries ?? [])];
  const window = trigger.windowMs ? { window: `${trigger.windowMs / 1000}s` } : {};
  const gate = {
    name: trigger.name,
    value: trigger.value,
    threshold: trigger.threshold,
    verdict: trigger.verdict,
    ...window,
  };
  const note = async (n: Omit<NotificationInput, 'deployId' | 'release' | 'gate'>) => {
    const report = await input.notifier.send({ ...n, gate, deployId: input.deployId, release: input.releaseId });
    for (const d of report?.deliveries ?? []) deliveries.push({ ...d, event: n.event });
  };
  const finish = async (
    result: Omit<AutoRollbackResult, 'finishedAt' | 'incidentId'>,
    incident: Omit<
      IncidentInput,
      'env' | 'trigger' | 'timeline' | 'deliveries' | 'monitorLogs' | 'deployId' | 'releaseId'
    > & { outcome: string },
  ) => {
    const { outcome, ...rest } = incident;
    let incidentId: string | undefined;
    try {
      incidentId = (
        await deps.createIncident({
          env: input.env,
          deployId: input.deployId,
          releaseId: input.releaseId,
          timeline,
          deliveries,
          monitorLogs: input.monitorLogs,
          trigger: {
            gate: trigger.name,
            observed: trigger.value,
            threshold: trigger.threshold,
            ...window,
            description: `${outcome}: ${result.reason}`,
          },
          ...rest,
        })
      ).id;
    } catch (error) {
      input.logger.error('could not create the incident record', { step: 'monitor:incident', error });
    }
    return { ...result, ...(incidentId ? { incidentId } : {}), finishedAt: iso() };
  };
  /**
   * Every way the previous release does not come back (blocked before touching anything, or failed) ends the same:
   * one rollback-failure notification carrying the reason, then a critical incident whose outcome names the status.
   */
  const finishUnrecovered = async (failure: {
    status: 'blocked' | 'failed';
    strategy: RollbackStrategy | 'none';
    backupFile?: string;
    reason: string;
    message: string;
    title: string;
    backup?: IncidentInput['backup'];
    verification?: IncidentInput['verification'];
    rollback: Omit<IncidentRollback, 'outcome'>;
  }) => {
    const { status, strategy, backupFile, reason } = failure;
    const outcome = status === 'blocked' ? 'rollback-blocked' : 'rollback-failed';
    await note({ event: 'rollback-failure', message: failure.message, fields: { reason } });
    return finish(
      { status, strategy, ...(backupFile ? { backupFile } : {}), reason },
      {
        severity: 'critical',
        title: failure.title,
        outcome,
        ...(failure.backup ? { backup: failure.backup } : {}),
        ...(failure.verification ? { verification: failure.verification } : {}),
        rollback: { ...failure.rollback, outcome },
      },
    );
  };

  const facts = await deps.getDeployFacts(input.deployId);
  const choice = chooseRollbackStrategy({
    previousReleaseId: facts.previousReleaseId,
    appliedMigrations: facts.appliedMigrations,
  });
  timeline.push({
    time: iso(),
    step: 'rollback:strategy',
    status: choice.strategy === 'none' ? 'failed' : 'succeeded',
    detail: formatRollbackStrategy(choice),
  });
  if (choice.strategy === 'none') {
    // Never stop the only release: a degraded service beats no service, and a human decides (issue 9).
    return finishUnrecovered({
      status: 'blocked',
      strategy: 'none',
      reason: FIRST_DEPLOY_REASON,
      message:
        `Auto-rollback of ${input.env} blocked: ${FIRST_DEPLOY_REASON}. ` +
        `${input.releaseId} keeps serving; a human must act.`,
      title: `Auto-rollback blocked on ${input.env}: first deploy`,
      rollback: { strategy: 'none', strategyReason: choice.reason },
    });
  }
  const previousReleaseId = facts.previousReleaseId!;
  const rollback = { strategy: choice.strategy, strategyReason: choice.reason };
  await note({
    event: 'rollback-start',
    message: `Auto-rollback of ${input.env}: ${trigger.name} violated; strategy ${formatRollbackStrategy(choice)}.`,
    fields: { strategy: choice.strategy },
  });
  if (!input.backupFile) {
    timeline.push({
      time: iso(),
      step: 'rollback:find-backup',
      status: 'failed',
      detail: 'no backup of this environment taken before the deploy',
    });
    const reason = `no backup to roll back to; ${input.releaseId} keeps serving`;
    return finishUnrecovered({
      status: 'blocked',
      strategy: choice.strategy,
      reason,
      message: `Auto-rollback of ${input.env} blocked: ${reason}. A human must act.`,
      title: `Auto-rollback blocked on ${input.env}: no backup`,
      rollback,
    });
  }

  timeline.push({ time: iso(), step: 'rollback:verify-backup', status: 'started', detail: input.backupFile });
  const verified = await deps.verifyBackup(input.backupFile);
  const problems = formatBackupProblems(verified.problems);
  timeline.push({
    time: iso(),
    step: 'rollback:verify-backup',
    status: verified.ok ? 'succeeded' : 'failed',
    detail: problems.join('; ') || 'sha256, manifest and environment match',
  });
  const backup = { file: input.backupFile, verified: verified.ok, problems };
  if (!verified.ok) {
    // The environment is not touched: restoring an unverifiable backup could make things worse than the bad release.
    const reason = `backup failed verification: ${problems.join('; ')}`;
    return finishUnrecovered({
      status: 'blocked',
      strategy: choice.strategy,
      backupFile: input.backupFile,
      reason,
      message: `Auto-rollback of ${input.env} blocked, production untouched: ${reason}. A human must act.`,
      title: `Auto-rollback blocked on ${input.env}: backup failed verification`,
      backup,
      rollback,
    });
  }

  let result: RollbackResult;
  try {
    result = await deps.rollBack({
      choice,
      previousReleaseId,
      appliedVersions: (facts.appliedMigrations ?? []).map((m) => m.version),
      verified,
    });
  } catch (error) {
    const reason = `the rollback refused to start: ${(error as Error).message}`;
    timeline.push({ time: iso(), step: 'rollback:begin', status: 'failed', detail: reason });
    return finishUnrecovered({
      status: 'blocked',
      strategy: choice.strategy,
      backupFile: input.backupFile,
      reason,
      message: `Auto-rollback of ${input.env} blocked: ${reason}. A human must act.`,
      title: `Auto-rollback blocked on ${input.env}`,
      backup,
      rollback,
    });
  }
  timeline.push(...result.timeline);
  const healthChecks = (result.healthChecks?.checks ?? []).map((c) => ({ at: c.at, ok: c.ok }));
  const verification = {
    healthChecks,
    ...(result.smoke ? { smoke: { ok: result.smoke.ok, checks: result.smoke.checks } } : {}),
  };
  const cf = result.carryForward;
  const done = {
    strategy: result.strategy,
    strategyReason: result.strategyReason,
    ...(result.preRollbackBackup ? { snapshotFile: result.preRollbackBackup } : {}),
    ...(cf
      ? {
          carriedForward: cf.carried,
          notCarriedForward: cf.notCarried,
          ...(cf.notCarried.length
            ? { recovery: describeRecovery(result.preRollbackBackup, cf.fromSeq, result.preRollbackDatabase) }
            : {}),
        }
      : {}),
  };
  if (result.ok) {
    const reason = `${result.strategy}: ${result.message}`;
    await note({
      event: 'rollback-success',
      message: `Auto-rollback of ${input.env} succeeded: ${reason}.`,
      fields: { strategy: result.strategy },
    });
    return finish(
      {
        status: 'succeeded',
        strategy: result.strategy,
        backupFile: input.backupFile,
        thirdOkHealthAt: getThirdConsecutiveOkAt(healthChecks),
        reason,
      },
      {
        severity: 'warning',
        title: `Auto-rollback on ${input.env}: ${trigger.name} violated`,
        outcome: 'rolled-back',
        backup,
        verification,
        rollback: { ...done, outcome: 'rolled-back' },
      },
    );
  }
  const reason = `the rollback failed: ${result.message}`;
  return finishUnrecovered({
    status: 'failed',
    strategy: result.strategy,
    backupFile: input.backupFile,
    reason,
    message: `Auto-rollback of ${input.env} failed: ${reason}. A human must act.`,
    title: `Auto-rollback failed on ${input.env}`,
    backup,
    verification,
    rollback: done,
  });
}
