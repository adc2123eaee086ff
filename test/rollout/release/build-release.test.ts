// Building a release from a generated checkout: production
// node_modules only, relocatable content hash, verified artifacts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createManualClock } from '../../../src/lib/clock.js';
import { isDhashError } from '../../../src/lib/errors.js';
import { buildRelease } from '../../../src/rollout/release/build-release.js';
import { computeContentSha256 } from '../../../src/rollout/release/content-hash.js';
import { resolveReleaseSource } from '../../../src/rollout/release/resolve-release-source.js';

async function createCheckout(root: string): Promise<void> {
  const files: Record<string, string> = {
    'dist/cli/main.js': 'console.log("dhash");\n',
    'package.json': JSON.stringify({ name: 'dhash', version: '1.2.3' }),
    'node_modules/prod/index.js': 'module.exports = 1;\n',
    'node_modules/prod/bin.js': '#!/usr/bin/env node\n',
    'node_modules/prod/node_modules/nesteddev/index.js': 'dev\n',
    'node_modules/devonly/index.js': 'dev\n',
    'node_modules/devonly/bin.js': 'dev\n',
    'node_modules/@s/prodscoped/index.js': 'prod\n',
    'node_modules/@s/devscoped/index.js': 'dev\n',
    'node_modules/optdev/index.js': 'kept: devOptional\n',
    'native/build/Release/dhash_native.node': 'addon\n',
    'native/build/Release/obj.target/dhash_native/src/addon.o': 'object\n',
    'native/src/addon.c': 'source\n',
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  await writeFile(
    join(root, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'dhash' },
        'node_modules/prod': {},
        'node_modules/prod/node_modules/nesteddev': { dev: true },
        'node_modules/devonly': { dev: true },
        'node_modules/@s/prodscoped': {},
        'node_modules/@s/devscoped': { dev: true },
        'node_modules/optdev': { devOptional: true },
      },
    }),
  );
  await mkdir(join(root, 'node_modules/.bin'));
  await symlink('../prod/bin.js', join(root, 'node_modules/.bin/prod'));
  await symlink('../devonly/bin.js', join(root, 'node_modules/.bin/devonly'));
}

test(`copies dist, package files, the native addon and production node_modules, pruning dev packages and their \
.bin links`, async (t) => {
  const root = await createTempDir(t);
  await createCheckout(root);
  const out = join(root, 'out');
  const built = await buildRelease({ projectRoot: root, outDir: out, clock: createManualClock() });
  assert.equal(built.releaseId, '20261128T000000000Z-1.2.3-nogit');
  const has = (p: string) => existsSync(join(built.dir, p));
  assert.deepEqual(
    [
      'dist/cli/main.js',
      'package.json',
      'package-lock.json',
      'node_modules/prod/index.js',
      'node_modules/@s/prodscoped/index.js',
      'node_modules/optdev/index.js',
      'native/build/Release/dhash_native.node',
    ].filter((p) => !has(p)),
    [],
  );
  assert.deepEqual(
    [
      'node_modules/devonly',
      'node_modules/@s/devscoped',
      'node_modules/prod/node_modules/nesteddev',
      'node_modules/.bin/devonly',
      'native/build/Release/obj.target',
      'native/src',
    ].filter(has),
    [],
  );
  assert.equal(await readlink(join(built.dir, 'node_modules/.bin/prod')), '../prod/bin.js');
  const manifest = JSON.parse(await readFile(join(built.dir, 'release.json'), 'utf8'));
  assert.deepEqual(manifest, {
    releaseId: built.releaseId,
    version: '1.2.3',
    gitSha: 'nogit',
    createdAt: '2026-11-28T00:00:00.000Z',
    contentSha256: built.sha256,
  });
  assert.equal(await computeContentSha256(built.dir), built.sha256);
  // Relocatable: the same tree elsewhere has the same content hash.
  execFileSync('cp', ['-a', built.dir, join(root, 'moved')]);
  assert.equal(await computeContentSha256(join(root, 'moved')), built.sha256);
});

test('refuses to build without dist/, saying to run npm run build (exit 2)', async (t) => {
  const root = await createTempDir(t);
  await createCheckout(root);
  await rm(join(root, 'dist'), { recursive: true });
  await assert.rejects(buildRelease({ projectRoot: root, clock: createManualClock() }), (error) => {
    assert.ok(isDhashError(error, 'EDISTMISSING'));
    assert.equal(error.exitCode, 2);
    assert.match(error.details, /npm run build/);
    return true;
  });
});

test(`writes a .tar.gz whose .sha256 passes sha256sum -c; a flipped byte or a missing .sha256 is \
refused with exit 3`, async (t) => {
  const root = await createTempDir(t);
  await createCheckout(root);
  const out = join(root, 'out');
  const built = await buildRelease({
    projectRoot: root,
    outDir: out,
    clock: createManualClock(),
    createArtifact: true,
  });
  assert.ok(built.artifact);
  execFileSync('sha256sum', ['-c', `${built.releaseId}.tar.gz.sha256`], { cwd: out });
  const source = await resolveReleaseSource({ projectRoot: root, release: built.artifact, clock: createManualClock() });
  assert.equal(source.manifest.contentSha256, built.manifest.contentSha256);
  await source.cleanup();

  const handle = await open(built.artifact, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, 100);
  byte[0] ^= 0x01;
  await handle.write(byte, 0, 1, 100);
  await handle.close();
  await assert.rejects(
    resolveReleaseSource({ projectRoot: root, release: built.artifact, clock: createManualClock() }),
    (error) => {
      assert.ok(isDhashError(error, 'ECHECKSUMMISMATCH'));
      assert.equal(error.exitCode, 3);
      return true;
    },
  );
  await rm(`${built.artifact}.sha256`);
  await assert.rejects(
    resolveReleaseSource({ projectRoot: root, release: built.artifact, clock: createManualClock() }),
    (error) => isDhashError(error, 'ECHECKSUMMISSING') && error.exitCode === 3,
  );
});

test(`a release directory changed after it was built fails its content hash (exit 3); a missing path \
is a usage error naming it`, async (t) => {
  const root = await createTempDir(t);
  await createCheckout(root);
  const built = await buildRelease({ projectRoot: root, outDir: join(root, 'out'), clock: createManualClock() });
  await writeFile(join(built.dir, 'dist/cli/main.js'), 'tampered\n');
  await assert.rejects(
    resolveReleaseSource({ projectRoot: root, release: built.dir, clock: createManualClock() }),
    (error) => isDhashError(error, 'ECHECKSUMMISMATCH') && error.exitCode === 3,
  );
  await assert.rejects(
    resolveReleaseSource({ projectRoot: root, release: 'nope', clock: createManualClock() }),
    (error) => {
      assert.ok(isDhashError(error, 'EBADRELEASE'));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /--release/);
      return true;
    },
  );
});
