import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCliForTest } from '../../helpers/cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { PDFDocument, createJpeg, createPng } from '../../helpers/pdfs.js';
import { hashImage } from '../../../src/service/hash/hash-image.js';

test('extract prints `<hash>  page <p> image <i>` for every raster image, in page order', async (t) => {
  const dir = await createTempDir(t);
  const jpeg = await createJpeg(48, 36, 31);
  const png = await createPng(30, 30, 32);
  const doc = await PDFDocument.create();
  const page1 = doc.addPage([200, 200]);
  page1.drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0 });
  page1.drawImage(await doc.embedPng(png), { x: 60, y: 60 });
  doc.addPage([200, 200]);
  doc.addPage([200, 200]).drawImage(await doc.embedPng(png), { x: 0, y: 0 });
  await writeFile(join(dir, 'doc.pdf'), await doc.save());

  const result = await runCliForTest(['extract', 'doc.pdf'], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  const jpegHash = (await hashImage(jpeg)).hash;
  const pngHash = (await hashImage(png)).hash;
  assert.equal(result.stdout, `${jpegHash}  page 1 image 1\n${pngHash}  page 1 image 2\n${pngHash}  page 3 image 1\n`);
  assert.equal(result.stderr, '');
});

test('extract exits 1 naming the file and the reason for a corrupt PDF, and 2 for a missing file', async (t) => {
  const dir = await createTempDir(t);
  await writeFile(join(dir, 'bad.pdf'), 'not a pdf at all');
  const bad = await runCliForTest(['extract', 'bad.pdf'], { cwd: dir });
  assert.equal(bad.exitCode, 1);
  assert.equal(bad.stdout, '');
  assert.equal(
    bad.stderr,
    'dhash: bad.pdf: The input is not a PDF (no %PDF- header in its first 1024 bytes). (EBADPDF)\n',
  );
  const missing = await runCliForTest(['extract', 'missing.pdf'], { cwd: dir });
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /^dhash: cannot read missing\.pdf: ENOENT/);
});
