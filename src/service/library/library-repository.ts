// The library of known images in SQLite: add, get, list with paging, delete; the checks every engine shares.
import type Database from 'better-sqlite3';
import { createError } from '../../lib/errors.js';
import { createSystemClock, type Clock } from '../../lib/clock.js';
import { normalizeHash } from './hash-bits.js';
import { appendChange, type ChangeRecord } from '../store/change-log.js';

type Db = Database.Database;

export interface LibraryEntry {
  id: number;
  label: string;
  /** 16 lowercase hex digits. */
  hash: string;
  /** Where it came from: `api`, `image`, `review:<id>`, ... */
  source: string;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface NewLibraryEntry {
  label: string;
  hash: string;
  source?: string;
}

export interface Paging {
  /** 1..1000, default 100. */
  limit?: number;
  /** Rows to skip, default 0. */
  offset?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const MAX_PAGE_LIMIT = 1000;
export const MAX_LABEL_CHARS = 500;

interface EntryRow {
  id: number;
  label: string;
  hash: string;
  source: string;
  created_at: string;
}

const toEntry = (row: EntryRow): LibraryEntry => ({
  id: row.id,
  label: row.label,
  hash: row.hash,
  source: row.source,
  createdAt: row.created_at,
});

export function validateLabel(label: unknown, field = 'label'): string {
  if (typeof label !== 'string' || label.trim() === '' || label.length > MAX_LABEL_CHARS) {
    throw createError('EINVALIDOPTION', {
      option: field,
      expected: `a non-empty string of at most ${MAX_LABEL_CHARS} characters`,
      actual: label,
    });
  }
  return label;
}

/** Validates `limit` and `offset`, naming the bad one. */
export function normalizePaging(paging: Paging = {}): { limit: number; offset: number } {
  const limit = paging.limit ?? 100;
  const offset = paging.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw createError('EINVALIDOPTION', {
      option: 'limit',
      expected: `an integer from 1 to ${MAX_PAGE_LIMIT}`,
      actual: paging.limit,
    });
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw createError('EINVALIDOPTION', {
      option: 'offset',
      expected: 'a non-negative integer',
      actual: paging.offset,
    });
  return { limit, offset };
}

/**
 * Adds one entry and its change-log row in one transaction. `viaReview` marks the entry a review resolution made
 * (the resolution's own change recreates it on carry-forward, so this add is not re-applied separately).
 */
export function addLibraryEntry(
  db: Db,
  input: NewLibraryEntry,
  clock: Clock = createSystemClock(),
  options: { viaReview?: number } = {},
): LibraryEntry {
  const { label, hash, source } = normalizeNewLibraryEntry(input);
  const createdAt = new Date(clock.now()).toISOString();
  return db.transaction((): LibraryEntry => {
    const info = db
      .prepare('INSERT INTO library_entries (label, hash, source, created_at) VALUES (?, ?, ?, ?)')
      .run(label, hash, source, createdAt);
    const entry = { id: Number(info.lastInsertRowid), label, hash, source, createdAt };
    appendChange(db, getAddChange(entry, options.viaReview));
    return entry;
  })();
}

/** The checks every engine makes before adding: EINVALIDOPTION for the label, EINVALIDHASH for the hash. */
export function normalizeNewLibraryEntry(input: NewLibraryEntry): Required<NewLibraryEntry> {
  return { label: validateLabel(input.label), hash: normalizeHash(input.hash), source: input.source ?? 'api' };
}

/** The change-log row of an add, the same on every engine (carry-forward and the index followers read it). */
export function getAddChange(entry: LibraryEntry, viaReview?: number): Omit<ChangeRecord, 'seq'> {
  const { label, hash, source, createdAt } = entry;
  const payload = { label, hash, source, createdAt, ...(viaReview === undefined ? {} : { viaReview }) };
  return { at: createdAt, kind: 'add', entity: 'library_entry', entityId: entry.id, payload };
}

/** The change-log row of a delete. */
export function getDeleteChange(entry: LibraryEntry, atMs: number): Omit<ChangeRecord, 'seq'> {
  const payload = { label: entry.label, hash: entry.hash };
  return { at: new Date(atMs).toISOString(), kind: 'delete', entity: 'library_entry', entityId: entry.id, payload };
}

export function getLibraryEntry(db: Db, id: number): LibraryEntry | undefined {
  const row = db.prepare('SELECT id, label, hash, source, created_at FROM library_entries WHERE id = ?').get(id) as
    EntryRow | undefined;
  return row && toEntry(row);
}

/** Oldest first (by id), so pages stay stable while entries are added. */
export function listLibraryEntries(db: Db, paging: Paging = {}): Page<LibraryEntry> {
  const { limit, offset } = normalizePaging(paging);
  const rows = db
    .prepare('SELECT id, label, hash, source, created_at FROM library_entries ORDER BY id LIMIT ? OFFSET ?')
    .all(limit, offset) as EntryRow[];
  const { total } = db.prepare('SELECT COUNT(*) AS total FROM library_entries').get() as { total: number };
  return { items: rows.map(toEntry), total, limit, offset };
}

/** Deletes entry `id`; throws ELIBRARYENTRYNOTFOUND when absent. The caller removes it from the HashIndex. */
export function deleteLibraryEntry(db: Db, id: number, clock: Clock = createSystemClock()): LibraryEntry {
  return db.transaction((): LibraryEntry => {
    const entry = getLibraryEntry(db, id);
    if (!entry) throw createError('ELIBRARYENTRYNOTFOUND', { id });
    db.prepare('DELETE FROM library_entries WHERE id = ?').run(id);
    appendChange(db, getDeleteChange(entry, clock.now()));
    return entry;
  })();
}

export function countLibraryEntries(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM library_entries').get() as { n: number }).n;
}

/** Streams every (id, hash) for building the in-memory index without materialising all rows at once. */
export function* iterateLibraryHashes(db: Db): Generator<{ id: number; hash: string }> {
  yield* db.prepare('SELECT id, hash FROM library_entries').iterate() as Iterable<{ id: number; hash: string }>;
}

export interface LibraryHashHalves {
  ids: Float64Array;
  /** Upper and lower 32 bits of each entry's hash, parallel to `ids`. */
  hi: Uint32Array;
  lo: Uint32Array;
}

const LOAD_RANGE_IDS = 65_536;

/**
 * Every (id, hash) as typed arrays, for the index at start-up: ~3× less CPU than a row per id. One query per
 * range of 65,536 ids returns two strings (the ids and the hashes, concatenated by SQLite over the same rows, so
 * they stay aligned), parsed without per-row objects. The schema's CHECK guarantees 16 lowercase hex digits.
 */
export function readLibraryHashHalves(db: Db): LibraryHashHalves {
  const bounds = db.prepare('SELECT min(id), max(id), count(*) FROM library_entries').raw().get() as [
    number | null,
    number | null,
    number,
  ];
  const [minId, maxId, total] = bounds;
  const out: LibraryHashHalves = {
    ids: new Float64Array(total),
    hi: new Uint32Array(total),
    lo: new Uint32Array(total),
  };
  if (minId === null || maxId === null) return out;
  const range = db
    .prepare(
      "SELECT count(*), group_concat(id, ','), group_concat(hash, '') FROM library_entries WHERE id BETWEEN ? AND ?",
    )
    .raw();
  const nextId = db.prepare('SELECT min(id) FROM library_entries WHERE id >= ?').pluck();
  let n = 0;
  for (let start: number | null = minId; start !== null && start <= maxId && n < total;) {
    const [count, idText, hashText] = range.get(start, start + LOAD_RANGE_IDS - 1) as [
      number,
      string | null,
      string | null,
    ];
    // An entry added while loading (the service is not serving yet, but another process may write) is left for later.
    const taken = Math.min(count, total - n);
    if (taken > 0) n = parseHalves(idText!, hashText!, taken, out, n);
    start = count > 0 ? start + LOAD_RANGE_IDS : (nextId.get(start + LOAD_RANGE_IDS) as number | null);
  }
  return n === total ? out : { ids: out.ids.subarray(0, n), hi: out.hi.subarray(0, n), lo: out.lo.subarray(0, n) };
}

/** Parses `count` ids ("1,2,…") and their concatenated hashes into `out` from position `at`; returns the next one. */
export function parseHalves(
  idText: string,
  hashText: string,
  count: number,
  out: LibraryHashHalves,
  at: number,
): number {
  let p = 0;
  for (let j = 0; j < count; j++, at++) {
    let id = 0;
    for (let c = idText.charCodeAt(p++); c >= 48 && c <= 57; c = idText.charCodeAt(p++)) id = id * 10 + c - 48;
    out.ids[at] = id;
    out.hi[at] = parseLowerHexWord(hashText, j * 16);
    out.lo[at] = parseLowerHexWord(hashText, j * 16 + 8);
  }
  return at;
}

function parseLowerHexWord(text: string, start: number): number {
  let word = 0;
  for (let i = start; i < start + 8; i++) {
    const c = text.charCodeAt(i);
    word = word * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return word;
}
