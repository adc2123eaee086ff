// The deploy journal: every deploy/rollback/monitor step appended as one JSON line to
// <root>/state/deploy-journal.jsonl.
import { appendFile, mkdir, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { rethrowAsNoSpace } from '../../lib/no-space.js';

export type JournalKind = 'deploy' | 'rollback' | 'monitor';
export type JournalStatus = 'started' | 'succeeded' | 'failed';

export interface JournalEntry {
  time: string;
  deployId: string;
  kind: JournalKind;
  /** `area:action`, e.g. `deploy:symlink`; `deploy:start` / `deploy:finish` open and close a deploy. */
  step: string;
  status: JournalStatus;
  releaseId?: string;
  previousReleaseId?: string;
  backupFile?: string;
  detail?: string;
  [key: string]: unknown;
}

export interface DeploySummary {
  deployId: string;
  releaseId: string;
  previousReleaseId?: string;
  startedAt: string;
  finishedAt?: string;
  status: 'started' | 'succeeded' | 'failed' | 'switched-back';
  backupFile?: string;
}

export function getJournalFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'deploy-journal.jsonl');
}

/**
 * Appends one line (a single write, so concurrent appenders never interleave within a line). A full disk throws
 * ENOSPACE naming the state folder, after cutting off any partial line so the next append starts on a line of its own.
 */
export async function appendJournal(environment: ResolvedEnvironment, entry: JournalEntry): Promise<void> {
  const file = getJournalFile(environment);
  const line = JSON.stringify(entry) + '\n';
  let sizeBefore: number | undefined;
  try {
    await mkdir(environment.stateDir, { recursive: true });
    sizeBefore = (await stat(file).catch(() => undefined))?.size ?? 0;
    await appendFile(file, line);
  } catch (error) {
    if (sizeBefore !== undefined) await truncate(file, sizeBefore).catch(() => {});
    await rethrowAsNoSpace(error, {
      folder: environment.stateDir,
      what: `append to the deploy journal ${file}`,
      neededBytes: Buffer.byteLength(line),
      isNothingChanged: true,
    });
  }
}

/** Every entry, oldest first; a missing journal is empty, a torn last line is skipped. */
export async function readJournal(environment: ResolvedEnvironment): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(getJournalFile(environment), 'utf8');
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {}
  }
  return out;
}

/** Folds the entries of one deployId into a summary. */
export function summarizeDeploy(entries: JournalEntry[], deployId: string): DeploySummary | undefined {
  const mine = entries.filter((e) => e.deployId === deployId && e.kind === 'deploy');
  const start = mine.find((e) => e.step === 'deploy:start');
  if (!start) return undefined;
  const finish = [...mine].reverse().find((e) => e.step === 'deploy:finish');
  const switchedBack = mine.some((e) => e.step === 'deploy:switch-back' && e.status === 'succeeded');
  return {
    deployId,
    releaseId: String(start.releaseId ?? ''),
    previousReleaseId: start.previousReleaseId,
    startedAt: start.time,
    finishedAt: finish?.time,
    status: !finish
      ? 'started'
      : switchedBack
        ? 'switched-back'
        : finish.status === 'succeeded'
          ? 'succeeded'
          : 'failed',
    backupFile: start.backupFile ?? mine.find((e) => e.backupFile)?.backupFile,
  };
}

/** The most recent deploy of the environment (the monitor watches it), or undefined when none was journaled. */
export async function getLatestDeploy(environment: ResolvedEnvironment): Promise<DeploySummary | undefined> {
  const entries = await readJournal(environment);
  const last = [...entries].reverse().find((e) => e.kind === 'deploy' && e.step === 'deploy:start');
  return last ? summarizeDeploy(entries, last.deployId) : undefined;
}
