// Pure: how much free space a backup and a staged release need, so preflight refuses before a write fails half-way.

const MB = 1024 * 1024;

/**
 * What a backup needs in its folder: the database snapshot (a full-size temp copy, deleted once zipped) plus the zip
 * of release + database, both at the peak just before the snapshot is deleted. The zip is counted at full size: deflate
 * barely shrinks the database (the hashes are random bits), and how much the release shrinks is known only after
 * writing, so full size keeps this an upper bound. ×1.1 covers zip headers, the manifest and growth of the live
 * database between preflight and backup; +16 MB covers the config files, the .sha256 and block rounding of thousands of
 * small files.
 *
 * For PostgreSQL `databaseBytes` is `pg_database_size`: the custom-format dump (database/dhash.pgdump) is compressed
 * and holds index definitions, not index pages, so it is smaller; how much smaller is known only after dumping, so
 * the database's full size is taken as the upper bound of both the temp dump and its copy in the zip.
 */
export function getBackupNeededBytes(databaseBytes: number, releaseBytes: number): number {
  return Math.ceil((2 * databaseBytes + releaseBytes) * 1.1) + 16 * MB;
}

/** A staged release: its files, with the same margin for block rounding (many small node_modules files). */
export function getReleaseNeededBytes(releaseBytes: number): number {
  return Math.ceil(releaseBytes * 1.1) + 16 * MB;
}
