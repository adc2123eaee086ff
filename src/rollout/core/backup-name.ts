// Backup file names `dhash_<UTC yyyymmddThhmmssmmmZ>_<env>.zip`: formatting, parsing, chronological sorting, checksum
// lines.

/** Fixed-width UTC stamp, so lexical order of names is chronological order. Env names never contain `_`. */
export const BACKUP_NAME_PATTERN = /^dhash_(\d{8}T\d{9}Z)_([a-z][a-z0-9-]*)\.zip$/;
const STAMP_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/;

export interface ParsedBackupName {
  name: string;
  env: string;
  stamp: string;
  createdAtMs: number;
}

/** `Date.UTC(2026, 10, 28, 0, 45, 12, 123)` → `20261128T004512123Z`. */
export function formatBackupTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}Z`
  );
}

/** The inverse of formatBackupTimestamp; null for anything that is not a real UTC instant. */
export function parseBackupTimestamp(stamp: string): number | null {
  const m = STAMP_PATTERN.exec(stamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const value = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return formatBackupTimestamp(value) === stamp ? value : null;
}

export function formatBackupName(envName: string, createdAtMs: number): string {
  return `dhash_${formatBackupTimestamp(createdAtMs)}_${envName}.zip`;
}

/** Parses a finished backup's file name (no folder); temp names and other files give null. */
export function parseBackupName(name: string): ParsedBackupName | null {
  const m = BACKUP_NAME_PATTERN.exec(name);
  if (!m) return null;
  const createdAtMs = parseBackupTimestamp(m[1]!);
  return createdAtMs === null ? null : { name, stamp: m[1]!, env: m[2]!, createdAtMs };
}

/** Newest first; names that are not backups are dropped. Ties (same ms, different env) sort by name. */
export function sortBackupNamesNewestFirst(names: readonly string[]): string[] {
  return names
    .map((n) => parseBackupName(n))
    .filter((p): p is ParsedBackupName => p !== null)
    .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((p) => p.name);
}

/** The name a backup is written under until it is complete: dot-prefixed, so `ls backups/dhash_*.zip` never sees it. */
export function formatBackupTempName(finalName: string, uniqueSuffix: string): string {
  return `.${finalName}.tmp-${uniqueSuffix}`;
}

export function isBackupTempName(name: string): boolean {
  return /^\.dhash_.*\.tmp-/.test(name);
}

/** One `sha256sum` line: `<64 hex>  <path>` (two spaces = text mode, as sha256sum writes it). */
export function formatChecksumLine(sha256: string, shownPath: string): string {
  return `${sha256}  ${shownPath}\n`;
}

/** Parses the first line of a `.sha256` file (text or binary mode marker); null when it is not one. */
export function parseChecksumLine(text: string): { sha256: string; path: string } | null {
  const line = text.split('\n')[0]?.replace(/\r$/, '') ?? '';
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
  return m ? { sha256: m[1]!.toLowerCase(), path: m[2]! } : null;
}
