// The backup manifest (manifest.json inside every backup zip): building it, parsing it, and judging entry paths and
// contents.
import { posix } from 'node:path';
import { z } from 'zod';

export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_PATH = 'manifest.json';
export const RELEASE_PREFIX = 'release/';
export const DATABASE_PATH = 'database/dhash.sqlite';
/** A PostgreSQL environment's database: `pg_dump --format=custom` (restored with pg_restore into a fresh database). */
export const POSTGRES_DUMP_PATH = 'database/dhash.pgdump';
export const CONFIG_PREFIX = 'config/';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const entrySchema = z.strictObject({ path: z.string().min(1), sha256: sha256Hex, size: z.number().int().min(0) });
const symlinkSchema = z.strictObject({ path: z.string().min(1), target: z.string().min(1) });
/** What a PostgreSQL backup records about its dump (never the URL: it holds a password). */
const postgresSchema = z.strictObject({
  /** The database's name when it was dumped. */
  database: z.string().min(1),
  serverVersion: z.string().min(1),
  format: z.literal('custom'),
  /** Rows per service table in the dumped snapshot: a restore must find the same. */
  rowCounts: z.record(z.string(), z.number().int().min(0)),
});

export const backupManifestSchema = z.strictObject({
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  env: z.string().min(1),
  createdAt: z.iso.datetime(),
  /** Why it was taken: `manual`, `pre-deploy`, `pre-rollback`… */
  reason: z.string().optional(),
  releaseId: z.string().nullable(),
  version: z.string().nullable(),
  /** release.json's contentSha256: lets a restore reuse an on-disk release with the same content. */
  releaseContentSha256: z.string().nullable(),
  schemaVersion: z.number().int().nullable(),
  /**
   * The change log's highest seq in the snapshot: carry-forward re-applies the changes after it. Absent in older
   * manifests.
   */
  changeLogSeq: z.number().int().min(0).optional(),
  /** The store the backup came from; absent in older manifests, which are all SQLite. */
  engine: z.enum(['sqlite', 'postgres']).optional(),
  /** The zip path of the database snapshot, or null when the environment had no database. */
  database: z.enum([DATABASE_PATH, POSTGRES_DUMP_PATH]).nullable(),
  /** For engine `postgres`: the dump's facts. */
  postgres: postgresSchema.optional(),
  /** Every zip entry except manifest.json, sorted by path. */
  entries: z.array(entrySchema),
  /** Symlinks of the release (node_modules/.bin), recreated on restore; never stored as zip entries. */
  symlinks: z.array(symlinkSchema),
});

export type BackupManifest = z.output<typeof backupManifestSchema>;
export type BackupEntry = BackupManifest['entries'][number];
export type BackupSymlink = BackupManifest['symlinks'][number];
export type PostgresBackupFacts = z.output<typeof postgresSchema>;

export interface BackupProblem {
  code: string;
  message: string;
  /** The zip entry concerned, when there is one. */
  entry?: string;
  /** For checksum and environment problems: what was expected and what was found. */
  expected?: string;
  actual?: string;
  /** For EWRONGENV: the newest backup of the expected environment, if any. */
  newest?: string | null;
}

export interface CreateManifestInput {
  env: string;
  createdAtMs: number;
  reason?: string;
  release: { releaseId?: string; version?: string; contentSha256?: string } | null;
  schemaVersion: number | null;
  changeLogSeq?: number;
  hasDatabase: boolean;
  /** Default `sqlite`. */
  engine?: 'sqlite' | 'postgres';
  /** Required for `postgres` with a database. */
  postgres?: PostgresBackupFacts;
  entries: BackupEntry[];
  symlinks: BackupSymlink[];
}

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Pure: the manifest for the given entries (sorted by path so the same content gives the same manifest). */
export function createBackupManifest(input: CreateManifestInput): BackupManifest {
  return {
    formatVersion: BACKUP_FORMAT_VERSION,
    env: input.env,
    createdAt: new Date(input.createdAtMs).toISOString(),
    ...(input.reason ? { reason: input.reason } : {}),
    releaseId: input.release?.releaseId ?? null,
    version: input.release?.version ?? null,
    releaseContentSha256: input.release?.contentSha256 ?? null,
    schemaVersion: input.schemaVersion,
    ...(input.changeLogSeq === undefined ? {} : { changeLogSeq: input.changeLogSeq }),
    engine: input.engine ?? 'sqlite',
    database: input.hasDatabase ? (input.engine === 'postgres' ? POSTGRES_DUMP_PATH : DATABASE_PATH) : null,
    ...(input.postgres ? { postgres: input.postgres } : {}),
    entries: [...input.entries].sort(byPath),
    symlinks: [...input.symlinks].sort(byPath),
  };
}

/** Parses manifest.json's text; every schema problem becomes an EMANIFESTINVALID problem naming its JSON path. */
export function parseBackupManifest(
  text: string,
): { manifest: BackupManifest; problems: [] } | { manifest: null; problems: BackupProblem[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      manifest: null,
      problems: [{ code: 'EMANIFESTINVALID', message: `manifest.json is not valid JSON: ${(error as Error).message}` }],
    };
  }
  const result = backupManifestSchema.safeParse(value);
  if (result.success) return { manifest: result.data, problems: [] };
  return {
    manifest: null,
    problems: result.error.issues.map((i) => ({
      code: 'EMANIFESTINVALID',
      message: `manifest.json ${i.path.join('.') || '(root)'}: ${i.message}`,
    })),
  };
}

/**
 * Why a zip entry name is unsafe to extract, or null when it is safe. Refuses absolute paths, drive letters,
 * backslashes (Windows separators would escape on extraction there), `.`/`..`/empty segments and control characters.
 */
export function getEntryPathProblem(path: string): string | null {
  if (path.length === 0) return 'the name is empty';
  if (path.includes('\\')) return 'the name contains a backslash';
  if ([...path].some((ch) => ch.charCodeAt(0) < 0x20)) return 'the name contains a control character';
  if (path.startsWith('/')) return 'the name is an absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'the name starts with a drive letter';
  const segments = path.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return 'the name contains a `..` segment';
  if (segments.some((s) => s === '' || s === '.')) return 'the name contains an empty or `.` segment';
  return null;
}

/** Why a manifest symlink would point outside the release folder on restore, or null when it stays inside. */
export function getSymlinkProblem(link: BackupSymlink): string | null {
  const pathProblem = getEntryPathProblem(link.path);
  if (pathProblem) return pathProblem;
  if (!link.path.startsWith(RELEASE_PREFIX)) return 'symlinks are only allowed inside release/';
  if (link.target.startsWith('/') || link.target.includes('\\') || link.target.includes('\u0000'))
    return 'the link target is absolute or malformed';
  const resolved = posix.normalize(posix.join(posix.dirname(link.path), link.target));
  if (!resolved.startsWith(RELEASE_PREFIX)) return `the link target resolves to ${resolved}, outside release/`;
  return null;
}

/** Compares what the zip holds (path → hash and size) with the manifest; one problem per disagreement. */
export function compareWithManifest(
  manifest: BackupManifest,
  actual: ReadonlyMap<string, { sha256: string; size: number }>,
): BackupProblem[] {
  const problems: BackupProblem[] = [];
  const listed = new Set<string>();
  for (const entry of manifest.entries) {
    listed.add(entry.path);
    const found = actual.get(entry.path);
    if (!found) {
      problems.push({
        code: 'EMANIFESTMISMATCH',
        entry: entry.path,
        message: `${entry.path} is listed in the manifest but missing from the zip`,
      });
    } else if (found.sha256 !== entry.sha256 || found.size !== entry.size) {
      problems.push({
        code: 'EMANIFESTMISMATCH',
        entry: entry.path,
        message:
          `${entry.path} has sha256 ${found.sha256} (${found.size} bytes) ` +
          `but the manifest says ${entry.sha256} (${entry.size} bytes)`,
      });
    }
  }
  for (const path of actual.keys()) {
    if (path !== MANIFEST_PATH && !listed.has(path)) {
      problems.push({
        code: 'EMANIFESTMISMATCH',
        entry: path,
        message: `${path} is in the zip but not listed in the manifest`,
      });
    }
  }
  for (const link of manifest.symlinks) {
    const problem = getSymlinkProblem(link);
    if (problem)
      problems.push({
        code: 'EPATHESCAPE',
        entry: link.path,
        message: `symlink ${link.path} → ${link.target}: ${problem}`,
      });
  }
  const isPostgres = manifest.engine === 'postgres';
  if (manifest.database !== null && (manifest.database === POSTGRES_DUMP_PATH) !== isPostgres) {
    problems.push({
      code: 'EMANIFESTMISMATCH',
      entry: manifest.database,
      message: `the manifest's engine is ${manifest.engine ?? 'sqlite'} but its database entry is ${manifest.database}`,
    });
  }
  if (isPostgres && manifest.database !== null && !manifest.postgres) {
    problems.push({
      code: 'EMANIFESTMISMATCH',
      entry: manifest.database,
      message: 'a PostgreSQL backup records no `postgres` facts (database, server version, row counts)',
    });
  }
  if (manifest.database !== null && !actual.has(manifest.database)) {
    problems.push({
      code: 'EMANIFESTMISMATCH',
      entry: manifest.database,
      message: `the database snapshot ${manifest.database} is missing`,
    });
  }
  return problems;
}
