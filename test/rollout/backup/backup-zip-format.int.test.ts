import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { createBackup, extractBackup, verifyBackup } from '../../../src/rollout/backup/index.js';
import { CHUNK_BYTES, writeBackupZip } from '../../../src/rollout/backup/write-backup-zip.js';
import { openZip } from '../../../src/rollout/backup/zip-reader.js';
import { CHUNK_TABLE_EXTRA_ID, parseChunkTable } from '../../../src/rollout/backup/zip-format.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import type { ResolvedEnvironment } from '../../../src/rollout/config/environments.js';

const logger = createSilentLogger();
const clock = () => createManualClock(Date.UTC(2026, 10, 28, 6, 0, 0, 0));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Adds `megabytes` of random (incompressible) rows to the environment's database: it then spans several deflate chunks.
 */
function addRandomRows(environment: ResolvedEnvironment, megabytes: number): void {
  const db = new Database(environment.databaseFile);
  db.exec('CREATE TABLE IF NOT EXISTS noise (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO noise (payload) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < megabytes * 256; i++)
      insert.run(Buffer.concat([randomBytes(2048), Buffer.alloc(2048, i % 251)]));
  })();
  db.close();
}

async function createLargeBackup(t: TestContext) {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const fixture = await createDeployedEnvironment(root, 'staging', { rows: 2000 });
  addRandomRows(fixture.environment, 10);
  const made = await createBackup(fixture.environment, { clock: clock(), logger });
  return { root, ...fixture, made };
}

/** Where the database entry's compressed bytes start in the zip, and its chunk table. */
async function findDatabaseData(file: string): Promise<{ dataStart: number; compressedSizes: number[] }> {
  const zip = await openZip(file);
  try {
    const info = zip.entries.find((e) => e.name === 'database/dhash.sqlite')!;
    const field = info.entry.extraFields.find((f) => f.id === CHUNK_TABLE_EXTRA_ID);
    assert.ok(field, 'the database entry carries a chunk table');
    const table = parseChunkTable(field.data, info.entry.compressedSize, info.size);
    assert.ok(table, 'the chunk table adds up to the entry sizes');
    const bytes = await readFile(file);
    const at = info.entry.relativeOffsetOfLocalHeader;
    return {
      dataStart: at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28),
      compressedSizes: table.compressedSizes,
    };
  } finally {
    zip.close();
  }
}

async function rewrite(root: string, file: string, bytes: Buffer): Promise<void> {
  await writeFile(file, bytes);
  await writeFile(`${file}.sha256`, `${sha(bytes)}  ${relative(root, file)}\n`);
}

test('a backup whose database spans several deflate chunks passes `unzip -t`, `sha256sum -c` from the \
root and `dhash backup verify`', async (t) => {
  const { root, made } = await createLargeBackup(t);
  const { compressedSizes } = await findDatabaseData(made.file);
  const dbSize = made.manifest.entries.find((e) => e.path === 'database/dhash.sqlite')!.size;
  assert.equal(compressedSizes.length, Math.ceil(dbSize / CHUNK_BYTES));
  assert.ok(compressedSizes.length >= 3, `expected at least 3 chunks, got ${compressedSizes.length}`);

  const unzipTest = spawnSync('unzip', ['-t', '-q', made.file], { encoding: 'utf8' });
  assert.equal(unzipTest.status, 0, unzipTest.stdout + unzipTest.stderr);
  assert.match(unzipTest.stdout, /^No errors detected in compressed data of /);
  const sum = execFileSync('sha256sum', ['-c', relative(root, made.sha256File)], { cwd: root, encoding: 'utf8' });
  assert.equal(sum, `${relative(root, made.file)}: OK\n`);
  const cli = await runCliForTest(['backup', 'verify', relative(root, made.file), '--env', 'staging'], { cwd: root });
  assert.equal(cli.exitCode, 0, cli.stderr);
});

test('every entry sha256 in the manifest equals an independent sha256 of the file `unzip` extracts', async (t) => {
  const { root, made } = await createLargeBackup(t);
  const out = join(root, 'unzipped');
  execFileSync('unzip', ['-q', made.file, '-d', out]);
  const listed = made.manifest.entries.map((e) => e.path);
  assert.ok(listed.includes('database/dhash.sqlite'));
  for (const entry of made.manifest.entries) {
    const bytes = await readFile(join(out, entry.path));
    assert.equal(entry.size, bytes.length, entry.path);
    assert.equal(entry.sha256, sha(bytes), entry.path);
  }
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest, made.manifest);
  // And the restore writes the same bytes as unzip.
  const restored = await extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root });
  assert.deepEqual(await readFile(restored.databaseFile!), await readFile(join(out, 'database/dhash.sqlite')));
});

test(`a flipped byte inside a middle chunk of the database is caught by verify and by restore, naming \
the entry`, async (t) => {
  const { root, made } = await createLargeBackup(t);
  const { dataStart, compressedSizes } = await findDatabaseData(made.file);
  const bytes = await readFile(made.file);
  bytes[dataStart + compressedSizes[0]! + Math.floor(compressedSizes[1]! / 2)]! ^= 0x10;
  await rewrite(root, made.file, bytes);

  const result = await verifyBackup(made.file, { projectRoot: root, expectedEnv: 'staging' });
  assert.equal(result.ok, false);
  assert.equal(result.problems[0]!.entry, 'database/dhash.sqlite');
  assert.ok(['ECRCMISMATCH', 'EENTRYCORRUPT'].includes(result.problems[0]!.code), JSON.stringify(result.problems));
  const cli = await runCliForTest(['backup', 'verify', relative(root, made.file)], { cwd: root });
  assert.equal(cli.exitCode, 3);
  const expectedCode = result.problems[0]!.code === 'ECRCMISMATCH' ? 'ECRCMISMATCH' : 'EBACKUPINVALID';
  await assert.rejects(
    extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => {
      assert.ok(isDhashError(e, expectedCode), String(e));
      assert.equal(e.exitCode, 3);
      return true;
    },
  );
  assert.deepEqual(
    readdirSync(root).filter((n) => n.includes('restore')),
    [],
  );
});

test(`the same flipped byte with the .sha256 left alone is refused as ECHECKSUMMISMATCH before \
anything is renamed into place`, async (t) => {
  const { root, made } = await createLargeBackup(t);
  const { dataStart, compressedSizes } = await findDatabaseData(made.file);
  const bytes = await readFile(made.file);
  bytes[dataStart + compressedSizes[0]! + 100]! ^= 0x01;
  await writeFile(made.file, bytes);
  const result = await verifyBackup(made.file, { projectRoot: root });
  assert.equal(result.problems[0]!.code, 'ECHECKSUMMISMATCH');
  await assert.rejects(
    extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => isDhashError(e, 'ECHECKSUMMISMATCH'),
  );
  assert.deepEqual(
    readdirSync(root).filter((n) => n.includes('restore')),
    [],
  );
});

test('a truncated zip is caught by verify and restore, with and without a matching .sha256', async (t) => {
  const { root, made } = await createLargeBackup(t);
  const bytes = await readFile(made.file);
  const truncated = bytes.subarray(0, Math.floor(bytes.length * 0.6));
  await writeFile(made.file, truncated);
  const mismatched = await verifyBackup(made.file, { projectRoot: root });
  assert.equal(mismatched.problems[0]!.code, 'ECHECKSUMMISMATCH');

  await rewrite(root, made.file, truncated);
  const result = await verifyBackup(made.file, { projectRoot: root });
  assert.deepEqual(
    result.problems.map((p) => p.code),
    ['EZIPINVALID'],
  );
  const cli = await runCliForTest(['backup', 'verify', relative(root, made.file)], { cwd: root });
  assert.equal(cli.exitCode, 3);
  await assert.rejects(
    extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => {
      assert.ok(isDhashError(e, 'EBACKUPINVALID'), String(e));
      return true;
    },
  );
  assert.deepEqual(
    readdirSync(root).filter((n) => n.includes('restore')),
    [],
  );
});

/** A tmpfs of `sizeBytes` for the test, unmounted when it ends. Fails (never skips) when it cannot be mounted. */
async function mountSmallDisk(t: TestContext, sizeBytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dhash-full-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    await rmdir(dir);
    assert.fail(
      `cannot simulate a full disk: \`mount -t tmpfs\` failed (needs root and mount(8)): ` +
        `${(mounted.stderr || String(mounted.error)).trim()}`,
    );
  }
  t.after(async () => {
    spawnSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

for (const [what, spareBytes] of [
  ['the snapshot', -(4 << 20)],
  ['the zip', 1 << 20],
] as const) {
  test(`a disk that fills up while writing ${what} gives ENOSPACE and leaves no temp file`, async (t) => {
    const root = await createTempDir(t);
    await createBackupProject(root);
    const { environment } = await createDeployedEnvironment(root, 'staging', { rows: 100 });
    addRandomRows(environment, 8);
    const disk = await mountSmallDisk(t, statSync(environment.databaseFile).size + spareBytes);
    await symlink(disk, environment.backupsDir);
    await assert.rejects(createBackup(environment, { clock: clock(), logger }), (e: unknown) => {
      assert.ok(isDhashError(e, 'ENOSPACE'), String(e));
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /^Not enough free space in .* to write the backup\.$/);
      return true;
    });
    assert.deepEqual(readdirSync(disk), []);
  });
}

test(`what would need zip64 (an entry over 4 GiB, more than 65,535 entries) is refused with a message \
saying so`, async (t) => {
  const dir = await createTempDir(t);
  const options = { mtime: new Date(Date.UTC(2026, 10, 28)), compressionLevel: 1, createManifest: () => ({}) as never };
  const big = join(dir, 'big');
  await writeFile(big, 'x');
  await assert.rejects(
    writeBackupZip(
      join(dir, 'a.zip'),
      [{ zipPath: 'database/dhash.sqlite', file: big, sizeBytes: 2 ** 32, isCompressed: true }],
      options,
    ),
    {
      message:
        'database/dhash.sqlite is 4294967296 bytes; entries over 4 GiB need zip64, which the writer does not support',
    },
  );
  const many = Array.from({ length: 65_535 }, (_, i) => ({
    zipPath: `release/f${i}`,
    data: Buffer.alloc(0),
    sizeBytes: 0,
    isCompressed: true,
  }));
  await assert.rejects(writeBackupZip(join(dir, 'b.zip'), many, options), {
    message: 'a backup of 65536 entries would need zip64, which the writer does not support',
  });
  assert.deepEqual(readdirSync(dir), ['big'], 'nothing was written');
});
