// `dhash hash` through the in-process CLI, on generated image files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createFixtureImage } from '../../helpers/images.js';
import { hashImage } from '../../../src/service/hash/hash-image.js';

async function writeImages(dir: string) {
  const jpeg = await createFixtureImage({ kind: 'photo', width: 320, height: 240, seed: 11, format: 'jpeg' });
  const png = await createFixtureImage({ kind: 'checkerboard', width: 97, height: 61, seed: 12, format: 'png-rgba' });
  await writeFile(join(dir, 'a.jpg'), jpeg);
  await writeFile(join(dir, 'b c.png'), png);
  await writeFile(join(dir, 'broken.png'), png.subarray(0, 100));
  await writeFile(join(dir, 'notes.txt'), 'not an image');
  return { jpeg, png };
}

test('prints `<hash>  <file>` for each file in argument order and exits 0', async (t) => {
  const dir = await createTempDir(t);
  const { jpeg, png } = await writeImages(dir);
  const result = await runCliForTest(['hash', 'b c.png', 'a.jpg'], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, `${(await hashImage(png)).hash}  b c.png\n${(await hashImage(jpeg)).hash}  a.jpg\n`);
});

test('--mode fast prints the fast hashes', async (t) => {
  const dir = await createTempDir(t);
  const { jpeg } = await writeImages(dir);
  const result = await runCliForTest(['hash', '--mode', 'fast', 'a.jpg'], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, `${(await hashImage(jpeg, { mode: 'fast' })).hash}  a.jpg\n`);
});

test(`names each missing or undecodable file on stderr with the reason, still hashes the rest, and \
exits 1`, async (t) => {
  const dir = await createTempDir(t);
  const { jpeg } = await writeImages(dir);
  const result = await runCliForTest(['hash', 'missing.jpg', 'broken.png', 'a.jpg', 'notes.txt'], { cwd: dir });
  assert.equal(result.exitCode, 1);
  assert.equal(result.stdout, `${(await hashImage(jpeg)).hash}  a.jpg\n`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 3, result.stderr);
  assert.equal(lines[0], 'dhash: missing.jpg: no such file');
  assert.match(
    lines[1],
    /^dhash: broken\.png: The png image (is truncated|cannot be decoded): .+ \((ETRUNCATED|EBADIMAGE)\)$/,
  );
  assert.equal(
    lines[2],
    'dhash: notes.txt: The data is not an image: no JPEG, PNG, GIF, WebP or TIFF signature found. (EBADIMAGE)',
  );
});

test('rejects an unknown --mode with exit 2, naming the option and the value', async (t) => {
  const dir = await createTempDir(t);
  await writeImages(dir);
  const result = await runCliForTest(['hash', '--mode', 'slow', 'a.jpg'], { cwd: dir });
  assert.equal(result.exitCode, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Expected the `--mode` option to be exact or fast, got `slow` \(string\)\./);
});

test('exits 2 when no file is given', async (t) => {
  const dir = await createTempDir(t);
  const result = await runCliForTest(['hash'], { cwd: dir });
  assert.equal(result.exitCode, 2);
  assert.match(result.stderr, /missing required argument 'files'/);
});

test('--help describes the modes and the exit behaviour', async (t) => {
  const dir = await createTempDir(t);
  const result = await runCliForTest(['hash', '--help'], { cwd: dir });
  assert.equal(result.exitCode, 0);
  assert.match(result.stdout, /--mode <mode>/);
  assert.match(result.stdout, /exact \(bit-for-bit equal to Python imagehash\)/);
  assert.match(result.stdout, /Exit codes:/);
});
