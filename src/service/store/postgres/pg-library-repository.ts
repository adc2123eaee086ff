// The library of known images on PostgreSQL: the SQLite repository's queries, on one client inside the store's
// transactions. Input checks and change-log rows come from library-repository.ts, so both engines agree.
import type pg from 'pg';
import type { Clock } from '../../../lib/clock.js';
import {
  getAddChange,
  getDeleteChange,
  normalizePaging,
  parseHalves,
  type LibraryEntry,
  type LibraryHashHalves,
  type NewLibraryEntry,
  type Page,
  type Paging,
} from '../../library/library-repository.js';
import { appendPgChange } from './pg-change-log.js';

interface EntryRow {
  id: string | number;
  label: string;
  hash: string;
  source: string;
  created_at: string;
}

const COLUMNS = 'id, label, hash, source, created_at';

const toEntry = (row: EntryRow): LibraryEntry => ({
  id: Number(row.id),
  label: row.label,
  hash: row.hash,
  source: row.source,
  createdAt: row.created_at,
});

/** Inserts a checked entry (normalizeNewLibraryEntry) and its change row; call inside a write transaction. */
export async function insertPgLibraryEntry(
  client: pg.Client,
  input: Required<NewLibraryEntry>,
  clock: Clock,
  viaReview?: number,
): Promise<LibraryEntry> {
  const createdAt = new Date(clock.now()).toISOString();
  const result = await client.query<{ id: string }>(
    'INSERT INTO library_entries (label, hash, source, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [input.label, input.hash, input.source, createdAt],
  );
  const entry = { id: Number(result.rows[0].id), ...input, createdAt };
  await appendPgChange(client, getAddChange(entry, viaReview));
  return entry;
}

export async function selectPgLibraryEntry(client: pg.Client, id: number): Promise<LibraryEntry | undefined> {
  const result = await client.query<EntryRow>(`SELECT ${COLUMNS} FROM library_entries WHERE id = $1`, [id]);
  return result.rows[0] && toEntry(result.rows[0]);
}

/** The entries that exist among `ids`, in the order of `ids`. */
export async function selectPgLibraryEntries(client: pg.Client, ids: readonly number[]): Promise<LibraryEntry[]> {
  if (ids.length === 0) return [];
  const result = await client.query<EntryRow>(`SELECT ${COLUMNS} FROM library_entries WHERE id = ANY($1::bigint[])`, [
    ids,
  ]);
  const byId = new Map(result.rows.map((row) => [Number(row.id), toEntry(row)]));
  return ids.flatMap((id) => {
    const entry = byId.get(id);
    return entry ? [entry] : [];
  });
}

/** Oldest first (by id); one snapshot for the page and its total. */
export async function listPgLibraryEntries(client: pg.Client, paging: Paging = {}): Promise<Page<LibraryEntry>> {
  const { limit, offset } = normalizePaging(paging);
  const rows = await client.query<EntryRow>(`SELECT ${COLUMNS} FROM library_entries ORDER BY id LIMIT $1 OFFSET $2`, [
    limit,
    offset,
  ]);
  return { items: rows.rows.map(toEntry), total: await countPgLibraryEntries(client), limit, offset };
}

/** Deletes entry `id` and logs it; undefined when absent. Call inside a write transaction. */
export async function deletePgLibraryEntry(
  client: pg.Client,
  id: number,
  clock: Clock,
): Promise<LibraryEntry | undefined> {
  const result = await client.query<EntryRow>(`DELETE FROM library_entries WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  const entry = result.rows[0] && toEntry(result.rows[0]);
  if (entry) await appendPgChange(client, getDeleteChange(entry, clock.now()));
  return entry;
}

export async function countPgLibraryEntries(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM library_entries');
  return Number(result.rows[0].n);
}

const LOAD_RANGE_IDS = 65_536;

/**
 * Every (id, hash) as typed arrays, one range of 65,536 ids per query as two aggregated strings (ids, hashes, both
 * ordered by id so they stay aligned): no row object per entry. Call in a repeatable-read transaction, so the ranges
 * and the count come from one snapshot; the schema's CHECK guarantees 16 lowercase hex digits per hash.
 */
export async function readPgLibraryHashHalves(client: pg.Client): Promise<LibraryHashHalves> {
  const bounds = await client.query<{ min: string | null; max: string | null; n: string }>(
    'SELECT min(id) AS min, max(id) AS max, count(*) AS n FROM library_entries',
  );
  const total = Number(bounds.rows[0].n);
  const out: LibraryHashHalves = {
    ids: new Float64Array(total),
    hi: new Uint32Array(total),
    lo: new Uint32Array(total),
  };
  if (bounds.rows[0].min === null) return out;
  const maxId = Number(bounds.rows[0].max);
  let n = 0;
  for (let start: number | null = Number(bounds.rows[0].min); start !== null && start <= maxId && n < total;) {
    const range = await client.query<{ n: string; ids: string | null; hashes: string | null }>(
      "SELECT count(*) AS n, string_agg(id::text, ',' ORDER BY id) AS ids, " +
        "string_agg(hash, '' ORDER BY id) AS hashes FROM library_entries WHERE id >= $1 AND id < $2",
      [start, start + LOAD_RANGE_IDS],
    );
    const count = Math.min(Number(range.rows[0].n), total - n);
    if (count > 0) n = parseHalves(range.rows[0].ids!, range.rows[0].hashes!, count, out, n);
    if (count > 0) start += LOAD_RANGE_IDS;
    else {
      const next: pg.QueryResult<{ id: string | null }> = await client.query(
        'SELECT min(id) AS id FROM library_entries WHERE id >= $1',
        [start + LOAD_RANGE_IDS],
      );
      start = next.rows[0].id === null ? null : Number(next.rows[0].id);
    }
  }
  return out;
}
