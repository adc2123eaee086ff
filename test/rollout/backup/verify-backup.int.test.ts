import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import yazl from 'yazl';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';
import { createBackupProject, createDeployedEnvironment } from '../../helpers/backup-fixtures.js';
import { createBackup, extractBackup, verifyBackup, type CreatedBackup } from '../../../src/rollout/backup/index.js';
import { createBackupManifest } from '../../../src/rollout/core/backup-manifest.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { createSilentLogger } from '../../../src/lib/logger.js';
import { resolveEnvironment } from '../../../src/rollout/config/environments.js';

const logger = createSilentLogger();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function setup(t: Parameters<typeof createTempDir>[0]): Promise<{ root: string; made: CreatedBackup }> {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const { environment } = await createDeployedEnvironment(root);
  const made = await createBackup(environment, {
    clock: createManualClock(Date.UTC(2026, 10, 28, 2, 0, 0, 0)),
    logger,
  });
  return { root, made };
}

/** Rewrites the zip and a fresh, honest .sha256, as an attacker (or a bad copy) would. */
async function rewrite(root: string, file: string, bytes: Buffer): Promise<void> {
  await writeFile(file, bytes);
  await writeFile(`${file}.sha256`, `${sha(bytes)}  ${relative(root, file)}\n`);
}

function zipToBuffer(build: (zip: yazl.ZipFile) => void): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  build(zip);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

function manifestFor(entries: Record<string, Buffer>) {
  return createBackupManifest({
    env: 'staging',
    createdAtMs: Date.UTC(2026, 10, 28, 2, 0, 0, 0),
    release: null,
    schemaVersion: null,
    hasDatabase: false,
    entries: Object.entries(entries).map(([path, data]) => ({ path, sha256: sha(data), size: data.length })),
    symlinks: [],
  });
}

test('one flipped byte in the zip fails verification with ECHECKSUMMISMATCH and exit 3 through the CLI', async (t) => {
  const { root, made } = await setup(t);
  const bytes = await readFile(made.file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  await writeFile(made.file, bytes);
  const result = await verifyBackup(made.file, { projectRoot: root });
  assert.equal(result.ok, false);
  assert.equal(result.problems[0]!.code, 'ECHECKSUMMISMATCH');
  assert.equal(result.sha256, sha(bytes));

  const cli = await runCliForTest(['backup', 'verify', relative(root, made.file)], { cwd: root });
  assert.equal(cli.exitCode, 3);
  assert.match(
    cli.stderr,
    /^dhash: The checksum of backups\/dhash_20261128T020000000Z_staging\.zip does not match its recorded sha256\.\n/,
  );
  await assert.rejects(
    extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => isDhashError(e, 'ECHECKSUMMISMATCH'),
  );
  assert.deepEqual(readdirSync(root).sort(), ['.dhash', 'backups', 'environments.json']);
});

test('a zip with a `../evil` entry and a matching sha256 file is refused and nothing is written outside', async (t) => {
  const root = await createTempDir(t);
  await createBackupProject(root);
  const evil = Buffer.from('owned\n');
  const good = await zipToBuffer((zip) => {
    zip.addBuffer(evil, 'aa/evil');
    zip.addBuffer(Buffer.from(JSON.stringify(manifestFor({ '../evil': evil }))), 'manifest.json');
  });
  const bytes = Buffer.from(good.toString('latin1').split('aa/evil').join('../evil'), 'latin1');
  const file = join(root, 'backups', 'dhash_20261128T020000000Z_staging.zip');
  await mkdir(join(root, 'backups'));
  await rewrite(root, file, bytes);
  await mkdir(join(root, 'restore'));

  const result = await verifyBackup(file, { projectRoot: root });
  assert.deepEqual(
    result.problems.map((p) => [p.code, p.entry]),
    [['EPATHESCAPE', '../evil']],
  );
  await assert.rejects(
    extractBackup(file, join(root, 'restore', 'target'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => {
      assert.ok(isDhashError(e, 'EPATHESCAPE'));
      assert.equal(e.exitCode, 3);
      assert.equal(
        e.message,
        'The backup backups/dhash_20261128T020000000Z_staging.zip holds an entry that would escape the ' +
          'target folder: "../evil".',
      );
      return true;
    },
  );
  assert.deepEqual(readdirSync(join(root, 'restore')), []);
  assert.deepEqual(readdirSync(root).sort(), ['backups', 'environments.json', 'restore']);
  const cli = await runCliForTest(['backup', 'verify', relative(root, file)], { cwd: root });
  assert.equal(cli.exitCode, 3);
});

test('symlink entries are refused', async (t) => {
  const root = await createTempDir(t);
  const data = Buffer.from('/etc/passwd');
  const bytes = await zipToBuffer((zip) => {
    zip.addBuffer(data, 'release/link', { mode: 0o120777 });
    zip.addBuffer(Buffer.from(JSON.stringify(manifestFor({ 'release/link': data }))), 'manifest.json');
  });
  const file = join(root, 'x.zip');
  await rewrite(root, file, bytes);
  const result = await verifyBackup(file, { projectRoot: root });
  assert.deepEqual(result.problems, [
    {
      code: 'EPATHESCAPE',
      entry: 'release/link',
      message: 'entry release/link is a symlink; symlink entries are refused',
    },
  ]);
});

test('an entry whose content disagrees with the manifest is refused, naming the entry', async (t) => {
  const { root, made } = await setup(t);
  const restored = await extractBackup(made.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root });
  const bytes = await zipToBuffer((zip) => {
    for (const entry of made.manifest.entries) {
      if (entry.path === 'release/dist/cli/main.js')
        zip.addBuffer(Buffer.from('console.log("tampered");\n'), entry.path);
      else zip.addFile(join(restored.dir, entry.path), entry.path);
    }
    zip.addBuffer(Buffer.from(JSON.stringify(made.manifest)), 'manifest.json');
  });
  await rewrite(root, made.file, bytes);
  const result = await verifyBackup(made.file, { projectRoot: root });
  assert.equal(result.problems[0]!.code, 'EMANIFESTMISMATCH');
  assert.equal(result.problems[0]!.entry, 'release/dist/cli/main.js');
  assert.match(
    result.problems[0]!.message,
    new RegExp(
      '^release\\/dist\\/cli\\/main\\.js has sha256 [0-9a-f]{64} \\(25 bytes\\) but the manifest says ' +
        '[0-9a-f]{64} \\(25 bytes\\)$',
    ),
  );
  await assert.rejects(
    extractBackup(made.file, join(root, 'restore2'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => {
      assert.ok(isDhashError(e, 'EMANIFESTMISMATCH'));
      assert.equal(
        e.message,
        'The entry release/dist/cli/main.js of backups/dhash_20261128T020000000Z_staging.zip does not ' +
          "match the backup's manifest.",
      );
      return true;
    },
  );
  assert.equal(readdirSync(root).filter((n) => n.startsWith('.restore2')).length, 0);
});

test('CRC-32 corruption is detected, in the central directory and inside a stored entry', async (t) => {
  const { root, made } = await setup(t);
  const original = await readFile(made.file);

  const bytes = Buffer.from(original);
  const name = Buffer.from('release/package.json');
  let at = bytes.indexOf(name);
  while (at >= 0 && bytes.readUInt32LE(at - 46) !== 0x02014b50) at = bytes.indexOf(name, at + 1);
  assert.ok(at > 0, 'found the central directory record');
  bytes.writeUInt32LE((bytes.readUInt32LE(at - 46 + 16) ^ 0xff) >>> 0, at - 46 + 16);
  await rewrite(root, made.file, bytes);
  const result = await verifyBackup(made.file, { projectRoot: root });
  assert.deepEqual(
    result.problems.map((p) => [p.code, p.entry]),
    [['ECRCMISMATCH', 'release/package.json']],
  );
  const cli = await runCliForTest(['backup', 'verify', relative(root, made.file)], { cwd: root });
  assert.equal(cli.exitCode, 3);
  assert.match(cli.stderr, /The entry release\/package\.json of .* fails its CRC-32 check\./);

  const stored = Buffer.from(original);
  const logoAt = stored.indexOf(Buffer.alloc(3000, 7));
  stored[logoAt + 1500] = 8;
  await rewrite(root, made.file, stored);
  const result2 = await verifyBackup(made.file, { projectRoot: root });
  assert.deepEqual(
    result2.problems.map((p) => [p.code, p.entry]),
    [
      ['ECRCMISMATCH', 'release/node_modules/left-pad/logo.png'],
      ['EMANIFESTMISMATCH', 'release/node_modules/left-pad/logo.png'],
    ],
  );
});

test(`a missing .sha256 is a problem, and a backup of another environment is refused naming the newest \
one of the right environment`, async (t) => {
  const { root, made } = await setup(t);
  const { environment: production } = await createDeployedEnvironment(root, 'production');
  const staging = await resolveEnvironment(root, 'staging', {});
  const newer = await createBackup(staging, { clock: createManualClock(Date.UTC(2026, 10, 28, 3, 0, 0, 0)), logger });
  const prod = await createBackup(production, { clock: createManualClock(Date.UTC(2026, 10, 28, 4, 0, 0, 0)), logger });

  const wrong = await verifyBackup(prod.file, { expectedEnv: 'staging', projectRoot: root });
  assert.deepEqual(
    wrong.problems.map((p) => p.code),
    ['EWRONGENV'],
  );
  assert.equal(wrong.problems[0]!.newest, newer.file);
  await assert.rejects(
    extractBackup(prod.file, join(root, 'restore'), { expectedEnv: 'staging', projectRoot: root }),
    (e: unknown) => {
      assert.ok(isDhashError(e, 'EWRONGENV'));
      assert.equal(
        e.message,
        'The backup backups/dhash_20261128T040000000Z_production.zip belongs to `production`, not `staging`.',
      );
      assert.equal(
        e.details,
        'The newest backup of `staging` is backups/dhash_20261128T030000000Z_staging.zip; pass that one instead.',
      );
      return true;
    },
  );
  const cli = await runCliForTest(['backup', 'verify', relative(root, prod.file), '--env', 'staging'], { cwd: root });
  assert.equal(cli.exitCode, 3);
  assert.match(cli.stderr, /The newest backup of `staging` is backups\/dhash_20261128T030000000Z_staging\.zip/);

  await rm(made.sha256File);
  const missing = await verifyBackup(made.file, { projectRoot: root });
  assert.deepEqual(
    missing.problems.map((p) => p.code),
    ['EBACKUPCHECKSUMMISSING'],
  );
  const cli2 = await runCliForTest(['backup', 'verify', relative(root, made.file)], { cwd: root });
  assert.equal(cli2.exitCode, 3);
  const cli3 = await runCliForTest(['backup', 'verify', 'backups/nope.zip'], { cwd: root });
  assert.equal(cli3.exitCode, 2);
  assert.equal(cli3.stderr.split('\n')[0], 'dhash: The backup backups/nope.zip does not exist.');
});
