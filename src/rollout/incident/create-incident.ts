// Incident records incidents/<id>.json + incidents/<id>.md: trigger, timeline, backup, verification, notification
// status.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../lib/atomic-file.js';
import { getProjectPaths } from '../../lib/project-paths.js';
import type { Clock } from '../../lib/clock.js';
import type { Redactor } from '../../lib/redact.js';
import { formatCompactUtc } from '../core/release-naming.js';
import { renderIncidentMarkdown } from './incident-markdown.js';
import type { Notifier } from '../notify/notifier.js';
import type { NotifyEventName, Severity } from '../notify/events.js';
import type { TimelineEntry } from '../deploy/step-runner.js';

export interface IncidentTrigger {
  gate?: string;
  observed?: number | string | null;
  threshold?: number | string;
  window?: string;
  /** Free text, e.g. the operator's `--trigger` or the reason a rollback was blocked. */
  description?: string;
}

/** The deploy and rollback timeline entry; an operator's `--from-json` incident may use other statuses. */
export type IncidentTimelineEntry = Omit<TimelineEntry, 'status'> & { status: TimelineEntry['status'] | (string & {}) };

/** How the rollback went: the strategy and, for a restore, what was carried forward and what stayed in the snapshot. */
export interface IncidentRollback {
  strategy: string;
  strategyReason: string;
  outcome: string;
  snapshotFile?: string;
  carriedForward?: { seq: number; at: string; summary: string }[];
  notCarriedForward?: { seq: number; at: string; summary: string; reason: string }[];
  /** How to recover what was not carried forward. */
  recovery?: string;
}

export interface IncidentDelivery {
  channel: string;
  status: string;
  attempts?: number;
  error?: string;
  outboxFile?: string;
  /** The event the delivery belonged to, when known. */
  event?: string;
}

export interface IncidentInput {
  env: string;
  /** Default `critical`. A critical incident pages (PagerDuty) through the notifier when one is given. */
  severity?: Severity;
  title?: string;
  deployId?: string;
  releaseId?: string;
  trigger: IncidentTrigger;
  timeline?: IncidentTimelineEntry[];
  backup?: { file: string; verified: boolean; problems?: string[] };
  /** Post-rollback verification: health checks (e.g. the 3 OK checks) and the smoke tests' result. */
  verification?: {
    healthChecks?: unknown[];
    smoke?: { ok: boolean; checks?: { name: string; ok: boolean; detail?: string; durationMs?: number }[] };
  };
  /** Deliveries of notifications sent before the incident (e.g. gate-violation, rollback-start). */
  deliveries?: IncidentDelivery[];
  monitorLogs?: string[];
  rollback?: IncidentRollback;
  /** The event the incident's own notification carries (default `failure`); `notify: false` sends none. */
  notifyEvent?: NotifyEventName;
  notify?: boolean;
}

export interface IncidentRecord extends Omit<IncidentInput, 'notify' | 'notifyEvent'> {
  formatVersion: 1;
  id: string;
  createdAt: string;
  severity: Severity;
  deliveries: IncidentDelivery[];
}

export interface CreateIncidentOptions {
  projectRoot: string;
  clock: Clock;
  redact: Redactor;
  notifier?: Notifier;
}

export function describeTrigger(trigger: IncidentTrigger): string {
  const windowNote = trigger.window ? ` over ${trigger.window}` : '';
  const gate = trigger.gate
    ? `gate ${trigger.gate} observed ${trigger.observed ?? 'no data'} ` +
      `against threshold ${trigger.threshold ?? '?'}${windowNote}`
    : '';
  return [gate, trigger.description].filter(Boolean).join('; ') || 'unspecified trigger';
}

/**
 * Writes the record (JSON and Markdown, each atomically) before notifying, so it exists even if every
 * channel is down; then sends the incident's notification and rewrites both with the delivery status.
 * Never overwrites an incident: a second one in the same millisecond gets a `-2` suffix.
 */
export async function createIncident(
  input: IncidentInput,
  options: CreateIncidentOptions,
): Promise<{ id: string; jsonFile: string; mdFile: string; record: IncidentRecord }> {
  const { incidentsDir, root } = getProjectPaths(options.projectRoot);
  const createdAtMs = options.clock.now();
  const base = `INC-${input.env}-${formatCompactUtc(createdAtMs)}`;
  let id = base;
  for (let n = 2; existsSync(join(incidentsDir, `${id}.json`)); n++) id = `${base}-${n}`;
  const { notify, notifyEvent, ...rest } = input;
  let record: IncidentRecord = options.redact.deep({
    formatVersion: 1,
    id,
    createdAt: new Date(createdAtMs).toISOString(),
    ...rest,
    severity: input.severity ?? 'critical',
    deliveries: input.deliveries ?? [],
  });
  const jsonFile = join(incidentsDir, `${id}.json`);
  const mdFile = join(incidentsDir, `${id}.md`);
  const write = async () => {
    await writeJsonAtomic(jsonFile, record);
    await writeFileAtomic(mdFile, options.redact(renderIncidentMarkdown(record, { incidentsDir, projectRoot: root })));
  };
  await write();
  if (options.notifier && notify !== false && record.severity === 'critical') {
    const event = notifyEvent ?? 'failure';
    let added: IncidentDelivery[];
    try {
      const report = await options.notifier.send({
        event,
        ...(input.deployId ? { deployId: input.deployId } : {}),
        ...(input.releaseId ? { release: input.releaseId } : {}),
        message: `Incident ${id}: ${describeTrigger(input.trigger)}.`,
        fields: { Incident: id, Record: relative(root, mdFile) },
      });
      added = report.deliveries.map((d) => ({
        ...d,
        event,
        ...(d.outboxFile ? { outboxFile: relative(root, d.outboxFile) } : {}),
      }));
    } catch (error) {
      added = [
        {
          channel: 'all',
          status: 'failed',
          event,
          error: options.redact(error instanceof Error ? error.message : String(error)),
        },
      ];
    }
    record = { ...record, deliveries: [...record.deliveries, ...added] };
    await write();
  }
  return { id, jsonFile, mdFile, record };
}

/** Every incident record, newest first. */
export async function listIncidents(projectRoot: string): Promise<{ file: string; record: IncidentRecord }[]> {
  const { incidentsDir } = getProjectPaths(projectRoot);
  let names: string[];
  try {
    names = await readdir(incidentsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: { file: string; record: IncidentRecord }[] = [];
  for (const name of names.filter((n) => n.startsWith('INC-') && n.endsWith('.json'))) {
    const file = join(incidentsDir, name);
    try {
      out.push({ file, record: JSON.parse(await readFile(file, 'utf8')) as IncidentRecord });
    } catch {}
  }
  return out.sort(
    (a, b) => b.record.createdAt.localeCompare(a.record.createdAt) || b.record.id.localeCompare(a.record.id),
  );
}
