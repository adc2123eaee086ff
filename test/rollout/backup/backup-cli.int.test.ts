import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { listBackups } from '../../../src/rollout/backup/index.js';
import { createManualClock } from '../../../src/lib/clock.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainTs = join(repoRoot, 'src', 'cli', 'main.ts');
const tsxLoader = import.meta.resolve('tsx');

test('`dhash backup --env E` creates a verified backup (create is the default subcommand) and dry-run \
writes nothing', async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  await createDeployedEnvironment(root);
  const clock = createManualClock(Date.UTC(2026, 10, 28, 5, 6, 7, 8));
  const dry = await runCliForTest(['backup', 'create', '--env', 'staging', '--dry-run'], { cwd: root, clock });
  assert.equal(dry.exitCode, 0);
  assert.equal(
    dry.stdout.split('\n')[0],
    'Dry run: would back up staging into backups/dhash_20261128T050607008Z_staging.zip (+ .sha256); ' +
      'nothing was written.',
  );
  assert.deepEqual(readdirSync(root).sort(), ['.dhash', 'environments.json']);

  const made = await runCliForTest(['backup', '--env', 'staging'], { cwd: root, clock });
  assert.equal(made.exitCode, 0, made.stderr);
  assert.match(
    made.stdout,
    new RegExp(
      '^Backup of staging written and verified in \\d+\\.\\d s:\\n {2}file: ' +
        '{5}backups\\/dhash_20261128T050607008Z_staging\\.zip \\(',
    ),
  );
  assert.match(made.stdout, /\nCheck it: sha256sum -c backups\/dhash_20261128T050607008Z_staging\.zip\.sha256\n$/);
  const check = spawnSync('sha256sum', ['-c', 'backups/dhash_20261128T050607008Z_staging.zip.sha256'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(check.status, 0);
  // Plain progress lines (not a TTY): phase starts and quarters.
  assert.match(made.stderr, /^backup database: 0% /m);
  assert.match(made.stderr, /^backup archive: 100% /m);

  const verified = await runCliForTest(
    ['backup', 'verify', 'backups/dhash_20261128T050607008Z_staging.zip', '--env', 'staging'],
    { cwd: root },
  );
  assert.equal(verified.exitCode, 0);
  assert.match(
    verified.stdout,
    new RegExp(
      '^OK backups\\/dhash_20261128T050607008Z_staging\\.zip: sha256 [0-9a-f]{64}, 10 entries match the ' +
        'manifest and their CRC-32\\n',
    ),
  );
});

test(`a backup killed midway leaves no dhash_*.zip that looks complete, and listBackups ignores the \
temp file`, async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root, 'staging', { rows: 0 });
  const db = new Database(environment.databaseFile);
  db.exec('CREATE TABLE IF NOT EXISTS big (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO big (payload) VALUES (?)');
  const pool = Array.from({ length: 64 }, () => randomBytes(4000));
  db.transaction(() => {
    for (let i = 0; i < 30_000; i++) insert.run(pool[i % 64]); // ~120 MB
  })();
  db.close();

  const child = spawn(process.execPath, ['--import', tsxLoader, mainTs, 'backup', 'create', '--env', 'staging'], {
    cwd: root,
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? -9 : _code)),
  );
  const deadline = Date.now() + 60_000;
  let killedWhile = '';
  while (Date.now() < deadline) {
    const names = safeList(join(root, 'backups'));
    const temp = names.find((n) => /^\.dhash_\d{8}T\d{9}Z_staging\.zip\.tmp-[0-9a-f]+$/.test(n));
    if (temp && statSync(join(root, 'backups', temp)).size > 4 << 20) {
      child.kill('SIGKILL');
      killedWhile = temp;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await exited, -9, 'the backup was killed while writing the zip');
  assert.notEqual(killedWhile, '');
  const left = safeList(join(root, 'backups'));
  assert.deepEqual(
    left.filter((n) => n.startsWith('dhash_')),
    [],
  );
  assert.ok(
    left.every((n) => n.startsWith('.dhash_')),
    left.join(', '),
  );
  assert.deepEqual(await listBackups(environment, { verify: true }), []);
  const ls = spawnSync('bash', ['-c', 'ls -1 backups/dhash_*.zip'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(ls.status, 0);
});

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
