// The file outbox notifications_out/: one JSON file per undelivered notification per channel, written atomically.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../../lib/atomic-file.js';
import { rethrowAsNoSpace } from '../../../lib/no-space.js';
import type { Redactor } from '../../../lib/redact.js';
import { formatCompactUtc } from '../../core/release-naming.js';
import type { ChannelName, DeliveryAttempt, RenderedMessage } from '../types.js';

export const OUTBOX_CHANNEL_TYPE = 'outbox';
/** The pseudo channel of a notification that had no configured channel at all. */
export const NO_CHANNEL = 'none';
export const OUTBOX_FORMAT_VERSION = 1;

export interface OutboxAttempt extends Partial<DeliveryAttempt> {
  at: string;
  error?: string;
}

export interface OutboxEntry {
  formatVersion: number;
  id: string;
  idempotencyKey: string;
  event: RenderedMessage['event'];
  severity: RenderedMessage['severity'];
  env: string;
  channel: ChannelName | typeof NO_CHANNEL;
  status: 'pending' | 'delivered';
  /** Why it is here: `dry-run`, `no channel configured`, or the last delivery error. */
  reason: string;
  /** Written by --dry-run: `notify flush` skips these unless asked, so a rehearsal never reaches people later. */
  dryRun: boolean;
  createdAt: string;
  deployId?: string;
  /** The channel-neutral message, so a flush can render it for channels configured since. */
  message: RenderedMessage;
  /** The channel's payload as it would be sent, without secrets; null for `none`. */
  payload: unknown;
  attempts: OutboxAttempt[];
  deliveredAt?: string;
  /** For a `none` entry delivered by a later flush: the channels that received it. */
  deliveredTo?: string[];
}

/** `<created ts>_<event>_<env>_<channel>_<short id>.json`: sorts by creation time; names only non-secret facts. */
export function getOutboxFileName(entry: Pick<OutboxEntry, 'createdAt' | 'event' | 'env' | 'channel' | 'id'>): string {
  const shortId = entry.id.replace(/-/g, '').slice(0, 8);
  const createdTs = formatCompactUtc(Date.parse(entry.createdAt));
  return `${createdTs}_${entry.event}_${entry.env}_${entry.channel}_${shortId}.json`;
}

/** Writes (or rewrites) an entry by temp name + rename, every string redacted; returns the file's path. */
export async function writeOutboxEntry(
  dir: string,
  entry: OutboxEntry,
  redact: Redactor,
  file?: string,
): Promise<string> {
  const path = file ?? join(dir, getOutboxFileName(entry));
  // A full disk: ENOSPACE naming the outbox (the temp file is removed by writeJsonAtomic).
  await writeJsonAtomic(path, redact.deep(entry)).catch((error) =>
    rethrowAsNoSpace(error, {
      folder: dir,
      what: `keep the undelivered ${entry.event} notification`,
      isNothingChanged: true,
    }),
  );
  return path;
}

export interface StoredOutboxEntry {
  file: string;
  entry: OutboxEntry;
}

/** Every readable entry in the outbox, oldest first; temp files (dot names) and unreadable files are skipped. */
export async function listOutboxEntries(dir: string): Promise<StoredOutboxEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: StoredOutboxEntry[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const file = join(dir, name);
    try {
      const entry = JSON.parse(await readFile(file, 'utf8')) as OutboxEntry;
      if (entry && entry.formatVersion === OUTBOX_FORMAT_VERSION) out.push({ file, entry });
    } catch {}
  }
  return out;
}
