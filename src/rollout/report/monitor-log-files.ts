// Reads monitor_logs/<deployId>.jsonl and .summary.json, and finds the latest deploy of an environment.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../../lib/errors.js';
import type { MonitorSummary, PollRecord } from './monitor-log-types.js';

export interface MonitorLog {
  deployId: string;
  polls: PollRecord[];
  /** Absent while the monitor is still running (or when it died before writing it). */
  summary?: MonitorSummary;
}

/** Parses one deploy's poll lines (a torn last line from a monitor still writing is ignored). */
export async function readMonitorLog(monitorLogsDir: string, deployId: string): Promise<MonitorLog> {
  const pollsFile = join(monitorLogsDir, `${deployId}.jsonl`);
  const summaryFile = join(monitorLogsDir, `${deployId}.summary.json`);
  if (!existsSync(pollsFile) && !existsSync(summaryFile)) {
    throw createError('ENOMONITORLOGS', { dir: monitorLogsDir, what: `the deploy \`${deployId}\`` });
  }
  const polls: PollRecord[] = [];
  if (existsSync(pollsFile)) {
    for (const line of (await readFile(pollsFile, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      try {
        polls.push(JSON.parse(line) as PollRecord);
      } catch {
        // The monitor appends line by line; only a line being written right now can be incomplete.
      }
    }
  }
  const summary = existsSync(summaryFile)
    ? (JSON.parse(await readFile(summaryFile, 'utf8')) as MonitorSummary)
    : undefined;
  return { deployId, polls, summary };
}

/**
 * Every deploy id with logs in the folder, oldest first (ids embed a UTC timestamp, so they sort by time within an
 * env).
 */
export async function listMonitoredDeploys(monitorLogsDir: string, envName?: string): Promise<string[]> {
  if (!existsSync(monitorLogsDir)) return [];
  const ids = new Set<string>();
  for (const name of await readdir(monitorLogsDir)) {
    const match = /^(.+?)(\.summary\.json|\.jsonl)$/.exec(name);
    if (match) ids.add(match[1]);
  }
  return [...ids]
    .filter((id) => envName === undefined || id.startsWith(`${envName}-`))
    .sort((a, b) => getDeployTimestamp(a).localeCompare(getDeployTimestamp(b)) || a.localeCompare(b));
}

export async function findLatestDeployId(monitorLogsDir: string, envName: string): Promise<string> {
  const ids = await listMonitoredDeploys(monitorLogsDir, envName);
  if (ids.length === 0)
    throw createError('ENOMONITORLOGS', { dir: monitorLogsDir, what: `the environment \`${envName}\`` });
  return ids[ids.length - 1];
}

/** The `yyyymmddThhmmssmmmZ` part of `<env>-<timestamp>`. */
export function getDeployTimestamp(deployId: string): string {
  return /(\d{8}T\d{9}Z)$/.exec(deployId)?.[1] ?? '';
}
