// `./quick-deploy.sh --env local` with `local` on a real PostgreSQL, real processes and real time: the pipeline
// backs up with pg_dump, migrates, deploys and monitors a short window; the service serves from PostgreSQL; a second
// deploy keeps what users wrote in between. No password in any output, log or outbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { createDeployProject, createReleaseVariant } from '../helpers/deploy-project.js';
import { startPostgres } from '../helpers/postgres-server.js';
import { listLabels, PG_TEST_PASSWORD, withClient } from '../helpers/postgres-environment.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { openZip } from '../../src/rollout/backup/zip-reader.js';
import { backupManifestSchema, type BackupManifest } from '../../src/rollout/core/backup-manifest.js';
import { applyPendingPostgresMigrations } from '../../src/service/store/postgres/index.js';
import { MIGRATIONS } from '../../src/service/store/index.js';

/** A short monitor window polled every second: the run ends all clear within seconds. */
const GATES = { monitor: { window: '5s', poll: [{ every: '1s' }] } };

function runQuickDeploy(root: string, args: string[], processEnv: Record<string, string | undefined>) {
  return new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn('bash', [join(root, 'quick-deploy.sh'), ...args], { cwd: root, env: processEnv });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** The zip's manifest.json and entry names. */
async function readBackup(file: string): Promise<{ manifest: BackupManifest; names: string[] }> {
  const zip = await openZip(file);
  try {
    const info = zip.entries.find((e) => e.name === 'manifest.json');
    assert.ok(info, `${file} has a manifest`);
    const chunks: Buffer[] = [];
    await zip.readEntry(info, new Writable({ write: (c, _e, done) => (chunks.push(c), done()) }));
    const manifest = backupManifestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    return { manifest, names: zip.entries.map((e) => e.name) };
  } finally {
    zip.close();
  }
}

async function getLibraryLabels(baseUrl: string): Promise<string[]> {
  const body = (await (await fetch(`${baseUrl}/v1/library`)).json()) as { items: { label: string }[] };
  return body.items.map((i) => i.label).filter((l) => !l.startsWith('smoke'));
}

/** Every file under `dir` (recursively) that holds `needle`. */
async function findFilesHolding(dir: string, needle: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    if ((await readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

test(
  'quick-deploy of a PostgreSQL environment: pg_dump backup, migration 1 → 2, deploy, all clear, the service \
serves from PostgreSQL; the next quick-deploy keeps what was written in between',
  { timeout: 600_000 },
  async (t) => {
    assert.ok(existsSync(join(REPO_ROOT, 'dist/cli/main.js')), 'run `npm run build` before the end-to-end test');
    const project = await createDeployProject(t, { healthTimeoutMs: 60_000 });
    const server = await startPostgres({ t, password: PG_TEST_PASSWORD });
    const { root, baseUrl } = project;
    const environmentsFile = join(root, 'environments.json');
    const environments = JSON.parse(await readFile(environmentsFile, 'utf8'));
    environments.environments.local.database = { engine: 'postgres' };
    await writeFile(environmentsFile, JSON.stringify(environments, null, 2));
    const gates = JSON.parse(await readFile(join(REPO_ROOT, 'quality-gates-config.json'), 'utf8'));
    gates.environments.local = GATES;
    await writeFile(join(root, 'quality-gates-config.json'), JSON.stringify(gates, null, 2));
    await copyFile(join(REPO_ROOT, 'quick-deploy.sh'), join(root, 'quick-deploy.sh'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DHASH_PORT: '', DHASH_DATABASE_URL: server.url };

    // A database an older release left at schema 1, holding entries: there is something to back up before migrating.
    await withClient(server.url, async (c) => {
      await applyPendingPostgresMigrations(c, { migrations: MIGRATIONS.slice(0, 1) });
      await c.query(
        "INSERT INTO library_entries (label, hash, source, created_at) VALUES ('kept-1', '00000000000000a1', 'seed', " +
          "'2026-11-28T00:00:00Z'), ('kept-2', '00000000000000a2', 'seed', '2026-11-28T00:00:00Z')",
      );
    });

    const first = await runQuickDeploy(root, ['--env', 'local', '--follow'], env);
    assert.equal(first.code, 0, first.output);
    assert.match(
      first.output,
      /\[ OK \] preflight:disk-backup +\d+ MB free in .*\(database \d+ MB by pg_database_size\)/,
    );
    const backupName = /✔ backup:create {2}done in .* — (backups\/dhash_\d{8}T\d{9}Z_local\.zip) verified/.exec(
      first.output,
    )?.[1];
    assert.ok(backupName, first.output);
    assert.match(first.output, /✔ migrate:plan {2}done in \S+ — schema 1 → 2: 1 migration\(s\) pass on a copy\n/);
    assert.match(first.output, /deploy:migrate.*schema 1 → 2 \(1 applied\)/);
    assert.match(first.output, /quick-deploy to local: DEPLOYED in /);
    const firstDeployId = /deploy:\s+(local-\d{8}T\d{9}Z)/.exec(first.output)?.[1];
    const firstSummary = JSON.parse(
      await readFile(join(root, 'monitor_logs', `${firstDeployId}.summary.json`), 'utf8'),
    );
    assert.equal(firstSummary.outcome, 'all-clear');

    // The backup: a pg_dump of the schema-1 database, no SQLite file, verifiable from the project root.
    const backup = await readBackup(join(root, backupName));
    assert.equal(backup.manifest.engine, 'postgres');
    assert.equal(backup.manifest.database, 'database/dhash.pgdump');
    assert.equal(backup.manifest.schemaVersion, 1);
    assert.equal(backup.manifest.postgres?.database, 'dhash');
    assert.equal(backup.manifest.postgres?.format, 'custom');
    assert.equal(backup.manifest.postgres?.rowCounts.library_entries, 2);
    assert.ok(backup.names.includes('database/dhash.pgdump'), backup.names.join(', '));
    assert.ok(!backup.names.includes('database/dhash.sqlite'));
    execFileSync('sha256sum', ['-c', `${backupName}.sha256`], { cwd: root });

    // The service serves from PostgreSQL, at schema 2, with the entries that were there before.
    const health = (await (await fetch(`${baseUrl}/health`)).json()) as Record<string, unknown>;
    assert.deepEqual([health.status, health.engine, health.schemaVersion], ['ok', 'postgres', 2]);
    assert.deepEqual(await getLibraryLabels(baseUrl), ['kept-1', 'kept-2']);
    assert.equal(existsSync(join(root, '.dhash/local/shared/dhash.sqlite')), false, 'no SQLite file was created');

    // Users write through the service; the next release deploys over the same database and serves it.
    const added = await fetch(`${baseUrl}/v1/library`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'between-deploys', hash: '00000000000000b1' }),
    });
    assert.equal(added.status, 201, await added.text());
    const firstReleaseId = basename(await readlink(join(root, '.dhash/local/current')));
    const candidates = join(root, 'candidates');
    await mkdir(candidates);
    const secondDir = await createReleaseVariant(
      join(root, '.dhash/local/releases', firstReleaseId),
      candidates,
      'b',
      (d) => writeFile(join(d, 'dist', 'VARIANT.txt'), 'B\n'),
    );
    const second = await runQuickDeploy(root, ['--env', 'local', '--release', secondDir, '--follow'], env);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /↷ migrate:plan {2}skipped: no pending migrations\n/);
    assert.match(second.output, /quick-deploy to local: DEPLOYED in /);
    const secondBackupName = /✔ backup:create {2}done in .* — (backups\/\S+\.zip) verified/.exec(second.output);
    const secondBackup = await readBackup(join(root, secondBackupName![1]));
    assert.equal(secondBackup.manifest.releaseId, firstReleaseId);
    // The smoke tests delete the entries they add: the dump holds exactly the three.
    assert.equal(secondBackup.manifest.postgres?.rowCounts.library_entries, 3);
    assert.equal(basename(await readlink(join(root, '.dhash/local/current'))), basename(secondDir));
    assert.deepEqual(await getLibraryLabels(baseUrl), ['kept-1', 'kept-2', 'between-deploys']);
    assert.deepEqual(await listLabels(server.url), ['kept-1', 'kept-2', 'between-deploys'], 'read from PostgreSQL');

    const leaks = [first.output, second.output].filter((o) => o.includes(PG_TEST_PASSWORD));
    assert.equal(leaks.length, 0, 'a quick-deploy printed the password');
    for (const dir of ['.dhash/local/logs', '.dhash/local/state', 'monitor_logs', 'notifications_out', 'incidents'])
      assert.deepEqual(await findFilesHolding(join(root, dir), PG_TEST_PASSWORD), [], `the password is under ${dir}`);
  },
);
