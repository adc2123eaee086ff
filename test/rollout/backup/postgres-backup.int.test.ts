// Backups of a PostgreSQL environment against a real server: the zip contract, the dump, no password anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { POSTGRES_BIN_DIR } from '../../helpers/postgres-server.js';
import {
  addLibraryEntries,
  createCurrentRelease,
  createPostgresProject,
  PG_TEST_PASSWORD,
} from '../../helpers/postgres-environment.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { createBackupManifest, POSTGRES_DUMP_PATH } from '../../../src/rollout/core/backup-manifest.js';
import { formatBackupName, formatChecksumLine } from '../../../src/rollout/core/backup-name.js';
import { writeBackupZip } from '../../../src/rollout/backup/write-backup-zip.js';
import { createHash } from 'node:crypto';

const BACKUP = 'backups/dhash_20261128T050607008Z_staging.zip';
const clockAt = () => createManualClock(Date.UTC(2026, 10, 28, 5, 6, 7, 8));

/**
 * pg_dump and pg_restore behind wrappers that record their argv and whether PGPASSWORD reached them, then run the
 * real programs: the test sees what the toolkit hands the tools.
 */
async function createRecordingBinDir(dir: string): Promise<{ binDir: string; logFile: string }> {
  const binDir = join(dir, 'pg-bin');
  const logFile = join(dir, 'pg-tools.log');
  await mkdir(binDir);
  for (const tool of ['pg_dump', 'pg_restore']) {
    const script =
      '#!/bin/sh\n' +
      `printf '%s argv=%s pgpassword=%s\\n' ${tool} "$*" "\${PGPASSWORD:+set}" >> ${logFile}\n` +
      `exec ${POSTGRES_BIN_DIR}/${tool} "$@"\n`;
    await writeFile(join(binDir, tool), script);
    await chmod(join(binDir, tool), 0o755);
  }
  return { binDir, logFile };
}

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout + result.stderr };
}

test('backs up a PostgreSQL environment into a zip that unzip -t, sha256sum -c and backup verify accept, with the \
dump inside and the password nowhere', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root);
  await createCurrentRelease(project.environment);
  await addLibraryEntries(project.server.url, ['alpha', 'beta', 'gamma']);
  const { binDir, logFile } = await createRecordingBinDir(root);
  const processEnv = { ...project.processEnv, DHASH_PG_BIN_DIR: binDir };

  const made = await runCliForTest(['backup', '--env', 'staging', '--verbose'], {
    cwd: root,
    processEnv,
    clock: clockAt(),
  });
  assert.equal(made.exitCode, 0, made.stderr);
  assert.match(
    made.stdout,
    new RegExp(
      '\\n {2}database: PostgreSQL 15\\.\\d+ \\(Debian [^)]+\\) database dhash, schema version 2, ' +
        'change log seq 3; database/dhash\\.pgdump ' +
        '\\(schema_migrations 2, library_entries 3, review_items 0, change_log 3\\)\\n',
    ),
  );
  assert.equal(run('unzip', ['-tq', BACKUP], root).status, 0);
  assert.equal(run('sha256sum', ['-c', `${BACKUP}.sha256`], root).status, 0);
  const verified = await runCliForTest(['backup', 'verify', BACKUP, '--env', 'staging'], { cwd: root, processEnv });
  assert.equal(verified.exitCode, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /\n {2}database\/dhash\.pgdump: pg_restore --list reads it\n$/);

  const manifest = JSON.parse(run('unzip', ['-p', BACKUP, 'manifest.json'], root).stdout) as Record<string, unknown>;
  assert.equal(manifest.engine, 'postgres');
  assert.equal(manifest.database, POSTGRES_DUMP_PATH);
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.changeLogSeq, 3);
  assert.deepEqual((manifest.postgres as { rowCounts: unknown }).rowCounts, {
    schema_migrations: 2,
    library_entries: 3,
    review_items: 0,
    change_log: 3,
  });

  // The dump holds the data: pg_restore turns it back into SQL with the three labels.
  const dumpFile = join(root, 'dump.pgdump');
  await writeFile(dumpFile, spawnSync('unzip', ['-p', BACKUP, POSTGRES_DUMP_PATH], { cwd: root }).stdout);
  const sql = run(`${POSTGRES_BIN_DIR}/pg_restore`, ['-f', '-', dumpFile], root).stdout;
  for (const label of ['alpha', 'beta', 'gamma']) assert.match(sql, new RegExp(`\\b${label}\\b`));

  // The password: never in an entry, the dump's SQL, the outputs, the JSON logs or the tools' argv.
  const entries = run('unzip', ['-Z1', BACKUP], root).stdout.trim().split('\n');
  assert.ok(entries.includes(POSTGRES_DUMP_PATH) && entries.includes('config/environment.json'));
  for (const entry of entries) {
    const bytes = spawnSync('unzip', ['-p', BACKUP, entry], { cwd: root, maxBuffer: 64 << 20 }).stdout;
    assert.equal(bytes.includes(PG_TEST_PASSWORD), false, `${entry} holds the password`);
  }
  const toolLog = await readFile(logFile, 'utf8');
  for (const text of [sql, made.stdout, made.stderr, verified.stdout, verified.stderr, toolLog])
    assert.equal(text.includes(PG_TEST_PASSWORD), false, text);
  const lines = toolLog.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['pg_dump', 'pg_restore', 'pg_restore'],
    'one dump, listed after it was written and again by backup verify',
  );
  assert.match(
    lines[0]!,
    / argv=--format=custom .*--snapshot=\S+ --dbname=postgres:\/\/dhash@127\.0\.0\.1:\d+\/dhash pgpassword=set$/,
  );
  assert.match(made.stderr, /"msg":"backup:snapshot done".*"engine":"postgres"/);
});

test('backup verify refuses a PostgreSQL backup whose dump pg_restore cannot read, though every hash \
matches', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { isMigrated: false });
  const createdAtMs = Date.UTC(2026, 10, 28, 5, 6, 7, 8);
  const file = join(project.environment.backupsDir, formatBackupName('staging', createdAtMs));
  await mkdir(project.environment.backupsDir, { recursive: true });
  const garbage = Buffer.from('PGDMP but not really a dump\n');
  const written = await writeBackupZip(
    file,
    [{ zipPath: POSTGRES_DUMP_PATH, data: garbage, sizeBytes: garbage.length, isCompressed: false }],
    {
      mtime: new Date(createdAtMs),
      compressionLevel: 1,
      createManifest: (entries) =>
        createBackupManifest({
          env: 'staging',
          createdAtMs,
          release: null,
          schemaVersion: 2,
          changeLogSeq: 0,
          hasDatabase: true,
          engine: 'postgres',
          postgres: { database: 'dhash', serverVersion: '15', format: 'custom', rowCounts: {} },
          entries,
          symlinks: [],
        }),
    },
  );
  assert.equal(
    written.sha256,
    createHash('sha256')
      .update(await readFile(file))
      .digest('hex'),
  );
  await writeFile(`${file}.sha256`, formatChecksumLine(written.sha256, BACKUP));

  const verified = await runCliForTest(['backup', 'verify', BACKUP], { cwd: root, processEnv: project.processEnv });
  assert.equal(verified.exitCode, 3);
  assert.match(
    verified.stdout,
    new RegExp(
      '^ {2}✗ EBACKUPINVALID database/dhash\\.pgdump is not a readable pg_dump archive: ' +
        'pg_restore \\(exit 1\\): pg_restore: error: ',
    ),
  );
  assert.match(verified.stderr, /^dhash: The backup backups\/\S+ failed verification \(1 problem\)\./);
});

test('a PostgreSQL environment without its URL variable is refused with EDATABASEURLMISSING (exit 2), \
nothing written', async (t) => {
  const root = await createTempDir(t);
  await createPostgresProject(t, root, { isMigrated: false });
  const result = await runCliForTest(['backup', '--env', 'staging'], { cwd: root, processEnv: {} });
  assert.equal(result.exitCode, 2);
  assert.match(
    result.stderr,
    /The environment `staging` keeps its data in PostgreSQL, but DHASH_DATABASE_URL is not set\./,
  );
  assert.match(result.stderr, /\nSet DHASH_DATABASE_URL to the database's postgres:\/\/ URL \(user, password, host/);
  assert.equal(existsSync(join(root, 'backups')), false);
});

test('an unreachable PostgreSQL fails the backup with EPGDUMPFAILED (exit 1), nothing in backups/, \
no password in the message', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root, { isMigrated: false });
  await project.server.stop();
  const result = await runCliForTest(['backup', '--env', 'staging'], { cwd: root, processEnv: project.processEnv });
  assert.equal(result.exitCode, 1, result.stderr);
  assert.match(
    result.stderr,
    /The backup of the PostgreSQL database postgres:\/\/dhash@127\.0\.0\.1:\d+\/dhash failed: cannot connect to /,
  );
  assert.equal(result.stderr.includes(PG_TEST_PASSWORD) || result.stdout.includes(PG_TEST_PASSWORD), false);
  assert.deepEqual(existsSync(join(root, 'backups')) ? await readdir(join(root, 'backups')) : [], []);
});

test('backup --dry-run of a PostgreSQL environment prints the dump it would take and writes nothing', async (t) => {
  const root = await createTempDir(t);
  const project = await createPostgresProject(t, root);
  await createCurrentRelease(project.environment);
  const dry = await runCliForTest(['backup', '--env', 'staging', '--dry-run'], {
    cwd: root,
    processEnv: project.processEnv,
    clock: clockAt(),
  });
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(
      '\\n {2}database: PostgreSQL postgres://dhash@127\\.0\\.0\\.1:\\d+/dhash \\(\\d+\\.\\d+ MB\\), ' +
        'pg_dump --format=custom in one snapshot\\n',
    ),
  );
  assert.equal(existsSync(join(root, 'backups')), false);
});
