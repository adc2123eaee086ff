// Auto-rollback after a rollback gate is violated: pick and verify the deploy's backup, restore it, report, open the incident.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { parseBackupName } from '../core/backup-name.js';
import type { GateResult } from '../core/gates.js';
import type { Logger } from '../../lib/logger.js';
import type { NotificationInput, Notifier } from '../notify/index.js';

export interface TimelineItem {
  time: string;
  step: string;
  status: 'started' | 'succeeded' | 'failed' | 'skipped' | 'info';
  detail?: string;
}

export interface IncidentRequest {
  env: string;
  severity: 'critical' | 'warning';
  title: string;
  deployId: string;
  releaseId: string;
  trigger: { gate: string; observed: number | null; threshold: number; window?: string };
  timeline: TimelineItem[];
  backup?: { file: string; verified: boolean; problems: string[] };
  verification?: { healthChecks: { at: string; ok: boolean }[]; smoke?: { ok: boolean } };
  outcome: string;
  /** Why the rollback ended the way it did, in one sentence. */
  reason: string;
  /** Deliveries of the notifications sent so far (gate-violation, rollback-start, …). */
  deliveries: { channel: string; status: string; attempts?: number; error?: string; outboxFile?: string; event?: string }[];
  monitorLogs: string[];
}

export interface RestoreOutcome {
  ok: boolean;
  restoredReleaseId?: string;
  healthChecks: { at: string; ok: boolean }[];
  smokeOk?: boolean;
  timeline: TimelineItem[];
  detail?: string;
}

/** The effectful parts, injected so the decision flow is testable and the real wiring lives in one adapter. */
export interface AutoRollbackDeps {
  /** Never throws: a bad or missing backup is `ok: false` with problems. */
  verifyBackup(file: string): Promise<{ ok: boolean; problems: string[] }>;
  /** The manual rollback (pre-rollback snapshot, restore, 3 OK health checks, smoke). Throws only when it refused before touching anything. */
  rollbackFromBackup(file: string): Promise<RestoreOutcome>;
  /** Stops the new release when there is nothing to roll back to. */
  stopService(): Promise<void>;
  createIncident(request: IncidentRequest): Promise<{ id: string }>;
}

export interface AutoRollbackResult {
  status: 'succeeded' | 'failed' | 'blocked';
  backupFile?: string;
  incidentId?: string;
  thirdOkHealthAt?: string;
  finishedAt: string;
  reason: string;
}

/** The deploy's own backup when the journal recorded one, else the newest backup of the env taken before the deploy. */
export async function findRollbackBackup(backupsDir: string, envName: string, deploy: { backupFile?: string; startedAtMs: number }): Promise<string | undefined> {
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

export async function performAutoRollback(input: {
  env: string; deployId: string; releaseId: string; trigger: GateResult; backupFile: string | undefined; monitorLogs: string[];
  clock: Clock; logger: Logger; notifier: Notifier; deps: AutoRollbackDeps; detectedAtMs: number;
  priorDeliveries?: IncidentRequest['deliveries'];
}): Promise<AutoRollbackResult> {
  const { clock, logger, notifier, deps, trigger } = input;
  const iso = () => new Date(clock.now()).toISOString();
  const timeline: TimelineItem[] = [
    { time: new Date(input.detectedAtMs).toISOString(), step: 'monitor:evaluate', status: 'failed', detail: `${trigger.name} = ${trigger.value} ${trigger.unit} > ${trigger.threshold}` },
  ];
  const deliveries: IncidentRequest['deliveries'] = [...(input.priorDeliveries ?? [])];
  const note = async (n: Omit<NotificationInput, 'deployId' | 'release'>) => {
    const report = await notifier.send({ ...n, deployId: input.deployId, release: input.releaseId });
    for (const d of report?.deliveries ?? []) deliveries.push({ ...d, event: n.event });
  };
  const gateField = { name: trigger.name, value: trigger.value, threshold: trigger.threshold, verdict: trigger.verdict, ...(trigger.windowMs ? { window: `${trigger.windowMs / 1000}s` } : {}) };
  const incident = async (severity: 'critical' | 'warning', title: string, outcome: string, reason: string, extra: Partial<IncidentRequest>) => {
    try {
      return (await deps.createIncident({
        env: input.env, severity, title, deployId: input.deployId, releaseId: input.releaseId,
        trigger: { gate: trigger.name, observed: trigger.value, threshold: trigger.threshold, ...(trigger.windowMs ? { window: `${trigger.windowMs / 1000}s` } : {}) },
        timeline, outcome, reason, deliveries, monitorLogs: input.monitorLogs, ...extra,
      })).id;
    } catch (error) {
      logger.error('could not create the incident record', { step: 'monitor:incident', error });
      return undefined;
    }
  };

  await note({ event: 'rollback-start', gate: gateField, message: `Auto-rollback of ${input.env}: ${trigger.name} violated.` });
  if (!input.backupFile) {
    timeline.push({ time: iso(), step: 'monitor:find-backup', status: 'failed', detail: 'no backup of this environment taken before the deploy' });
    let stopDetail = 'stopped the new release';
    try {
      await deps.stopService();
    } catch (error) {
      stopDetail = `could not stop the new release: ${(error as Error).message}`;
    }
    timeline.push({ time: iso(), step: 'rollback:stop', status: stopDetail.startsWith('stopped') ? 'succeeded' : 'failed', detail: stopDetail });
    const reason = `no backup to roll back to; ${stopDetail}; nothing is serving`;
    await note({ event: 'rollback-failure', gate: gateField, message: `Auto-rollback of ${input.env} blocked: ${reason}. A human must act.` });
    const incidentId = await incident('critical', `Auto-rollback blocked on ${input.env}: no backup`, 'rollback-blocked', reason, {});
    return { status: 'blocked', incidentId, finishedAt: iso(), reason };
  }

  timeline.push({ time: iso(), step: 'rollback:verify-backup', status: 'started', detail: input.backupFile });
  const verified = await deps.verifyBackup(input.backupFile);
  timeline.push({ time: iso(), step: 'rollback:verify-backup', status: verified.ok ? 'succeeded' : 'failed', detail: verified.problems.join('; ') || 'checksum and manifest match' });
  const backup = { file: input.backupFile, verified: verified.ok, problems: verified.problems };
  if (!verified.ok) {
    // The environment is not touched: restoring an unverifiable backup could make things worse than the bad release.
    const reason = `backup failed verification: ${verified.problems.join('; ')}`;
    await note({ event: 'rollback-failure', gate: gateField, message: `Auto-rollback of ${input.env} blocked, production untouched: ${reason}. A human must act.` });
    const incidentId = await incident('critical', `Auto-rollback blocked on ${input.env}: backup failed verification`, 'rollback-blocked', reason, { backup });
    return { status: 'blocked', backupFile: input.backupFile, incidentId, finishedAt: iso(), reason };
  }

  let outcome: RestoreOutcome;
  try {
    outcome = await deps.rollbackFromBackup(input.backupFile);
  } catch (error) {
    const reason = `the rollback refused to start: ${(error as Error).message}`;
    timeline.push({ time: iso(), step: 'rollback:restore', status: 'failed', detail: reason });
    await note({ event: 'rollback-failure', gate: gateField, message: `Auto-rollback of ${input.env} blocked: ${reason}. A human must act.` });
    const incidentId = await incident('critical', `Auto-rollback blocked on ${input.env}`, 'rollback-blocked', reason, { backup });
    return { status: 'blocked', backupFile: input.backupFile, incidentId, finishedAt: iso(), reason };
  }
  timeline.push(...outcome.timeline);
  const thirdOkHealthAt = outcome.ok ? getThirdConsecutiveOkAt(outcome.healthChecks) : undefined;
  const verification = { healthChecks: outcome.healthChecks, ...(outcome.smokeOk === undefined ? {} : { smoke: { ok: outcome.smokeOk } }) };
  if (outcome.ok) {
    const reason = `restored ${outcome.restoredReleaseId ?? 'the previous release'} from ${input.backupFile}`;
    await note({ event: 'rollback-success', gate: gateField, message: `Auto-rollback of ${input.env} succeeded: ${reason}.` });
    const incidentId = await incident('warning', `Auto-rollback on ${input.env}: ${trigger.name} violated`, 'rolled-back', reason, { backup, verification });
    return { status: 'succeeded', backupFile: input.backupFile, incidentId, thirdOkHealthAt, finishedAt: iso(), reason };
  }
  const reason = `the rollback failed: ${outcome.detail ?? 'health or smoke checks did not pass'}`;
  await note({ event: 'rollback-failure', gate: gateField, message: `Auto-rollback of ${input.env} failed: ${reason}. A human must act.` });
  const incidentId = await incident('critical', `Auto-rollback failed on ${input.env}`, 'rollback-failed', reason, { backup, verification });
  return { status: 'failed', backupFile: input.backupFile, incidentId, finishedAt: iso(), reason };
}
