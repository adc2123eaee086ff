import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { extractPdfImages, getPdfCapability, isPdfInputError } from '../../../src/service/pdf/index.js';
import { hashImage } from '../../../src/service/hash/hash-image.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { PDFDocument, createJpeg, createPixels, createPng, drawRawImage, drawStencilMask } from '../../helpers/pdfs.js';

const LIMITS = { maxPixels: 10_000_000, timeoutMs: 20_000 };

async function hashRaw(samples: Buffer, width: number, height: number, channels: 1 | 3): Promise<string> {
  const png = await sharp(samples, { raw: { width, height, channels } }).png().toBuffer();
  return (await hashImage(png)).hash;
}

test('hashes every raster image with its page, skipping soft masks and stencils, applying Decode arrays', async (t) => {
  const tempParentDir = await createTempDir(t);
  const jpeg = await createJpeg(64, 48, 1);
  const png = await createPng(50, 40, 2);
  const pngWithAlpha = await createPng(33, 21, 3, 4);
  const gray = createPixels(40, 30, 1, 4);
  const invertedJpeg = await createJpeg(36, 28, 5);

  const doc = await PDFDocument.create();
  const page1 = doc.addPage([300, 300]);
  page1.drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0, width: 64, height: 48 });
  page1.drawImage(await doc.embedPng(png), { x: 100, y: 0, width: 50, height: 40 });
  const page2 = doc.addPage([300, 300]);
  page2.drawImage(await doc.embedPng(pngWithAlpha), { x: 0, y: 0, width: 33, height: 21 });
  const page3 = doc.addPage([300, 300]);
  drawRawImage(doc, page3, { samples: gray, width: 40, height: 30, colorSpace: 'DeviceGray', decode: [1, 0] });
  drawStencilMask(doc, page3, 16, 16);
  drawRawImage(doc, page3, {
    samples: invertedJpeg,
    width: 36,
    height: 28,
    colorSpace: 'DeviceRGB',
    decode: [1, 0, 1, 0, 1, 0],
    filter: 'DCTDecode',
  });
  const pdf = await doc.save();

  const attempts: string[] = [];
  const images = await extractPdfImages(pdf, {
    ...LIMITS,
    tempParentDir,
    onAttempt: (outcome) => attempts.push(outcome),
  });

  const jpegPixels = await sharp(invertedJpeg).raw().toBuffer();
  const expected = [
    // DCT images are decoded by poppler's libjpeg: pixel-identical to sharp's decode of the same JPEG here.
    { page: 1, index: 1, width: 64, height: 48, hash: (await hashImage(jpeg)).hash, colorSpace: 'rgb' },
    // Flate images are lossless: the extracted pixels are the source pixels.
    { page: 1, index: 2, width: 50, height: 40, hash: (await hashImage(png)).hash, colorSpace: 'rgb' },
    // The alpha channel became an SMask (skipped); the colour part hashes like the RGBA source (luma ignores alpha).
    { page: 2, index: 1, width: 33, height: 21, hash: (await hashImage(pngWithAlpha)).hash, colorSpace: 'rgb' },
    // Decode [1 0] inverts: the viewer shows 255 - sample.
    {
      page: 3,
      index: 1,
      width: 40,
      height: 30,
      hash: await hashRaw(Buffer.from(gray.map((v) => 255 - v)), 40, 30, 1),
      colorSpace: 'gray',
    },
    {
      page: 3,
      index: 2,
      width: 36,
      height: 28,
      hash: await hashRaw(Buffer.from(jpegPixels.map((v) => 255 - v)), 36, 28, 3),
      colorSpace: 'rgb',
    },
  ];
  assert.deepEqual(images, expected);
  // The inverted images really differ from their sources, so the Decode check is not vacuous.
  assert.notEqual(images[3].hash, await hashRaw(gray, 40, 30, 1));
  assert.notEqual(images[4].hash, (await hashImage(invertedJpeg)).hash);
  assert.deepEqual(attempts, ['success', 'success', 'success', 'success', 'success']);
  assert.deepEqual(await readdir(tempParentDir), []);
});

test('returns no images for a PDF without pictures', async (t) => {
  const tempParentDir = await createTempDir(t);
  const doc = await PDFDocument.create();
  doc.addPage([100, 100]).drawText('no pictures here');
  assert.deepEqual(await extractPdfImages(await doc.save(), { ...LIMITS, tempParentDir }), []);
  assert.deepEqual(await readdir(tempParentDir), []);
});

test(`rejects bytes that are not a PDF, and a PDF poppler cannot read, with EBADPDF (422), leaving no \
temp files`, async (t) => {
  const tempParentDir = await createTempDir(t);
  const notPdf = Buffer.from('hello, this is not a pdf');
  await assert.rejects(
    extractPdfImages(notPdf, { ...LIMITS, tempParentDir }),
    (e) => isPdfInputError(e) && e.code === 'EBADPDF' && e.httpStatus === 422,
  );
  const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]);
  await assert.rejects(extractPdfImages(garbage, { ...LIMITS, tempParentDir }), (e) => {
    assert.ok(isPdfInputError(e));
    assert.equal(e.code, 'EBADPDF');
    assert.match(e.message, /^The PDF could not be read: /);
    return true;
  });
  assert.deepEqual(await readdir(tempParentDir), []);
});

test(`refuses an image over the pixel limit, or images over the total budget, before decoding them \
(ETOOMANYPIXELS, 413)`, async (t) => {
  const tempParentDir = await createTempDir(t);
  const doc = await PDFDocument.create();
  doc.addPage([100, 100]).drawImage(await doc.embedPng(await createPng(40, 30, 7)), { x: 0, y: 0 });
  await assert.rejects(extractPdfImages(await doc.save(), { ...LIMITS, maxPixels: 1199, tempParentDir }), (e) => {
    assert.ok(isPdfInputError(e));
    assert.equal(e.code, 'ETOOMANYPIXELS');
    assert.equal(e.httpStatus, 413);
    assert.equal(e.message, "The PDF's image 0 on page 1 has 40×30 pixels, over the limit of 1199.");
    return true;
  });
  assert.equal((await extractPdfImages(await doc.save(), { ...LIMITS, maxPixels: 1200, tempParentDir })).length, 1);
  // Two images of 1200 pixels each: each within the per-image limit, together over a 2399-pixel budget.
  const two = await PDFDocument.create();
  const page = two.addPage([100, 100]);
  page.drawImage(await two.embedPng(await createPng(40, 30, 7)), { x: 0, y: 0 });
  page.drawImage(await two.embedPng(await createPng(40, 30, 8)), { x: 50, y: 50 });
  await assert.rejects(
    extractPdfImages(await two.save(), { ...LIMITS, maxPixels: 1200, maxTotalPixels: 2399, tempParentDir }),
    (e) => {
      assert.ok(isPdfInputError(e));
      assert.equal(e.message, "The PDF's 2 images have 2400 pixels in all, over the limit of 2399.");
      return true;
    },
  );
  assert.equal(
    (await extractPdfImages(await two.save(), { ...LIMITS, maxPixels: 1200, maxTotalPixels: 2400, tempParentDir }))
      .length,
    2,
  );
  assert.deepEqual(await readdir(tempParentDir), []);
});

test('kills pdfimages when the timeout passes (EPDFTIMEOUT) and still removes the temp folder', async (t) => {
  const dir = await createTempDir(t);
  const tempParentDir = join(dir, 'tmp');
  await writeFile(join(dir, 'slow-pdfimages'), '#!/bin/sh\nexec sleep 30\n');
  await chmod(join(dir, 'slow-pdfimages'), 0o755);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(tempParentDir);
  const started = Date.now();
  await assert.rejects(
    extractPdfImages(Buffer.from('%PDF-1.4\n'), {
      ...LIMITS,
      timeoutMs: 300,
      pdfimagesCommand: join(dir, 'slow-pdfimages'),
      tempParentDir,
    }),
    (e) =>
      isPdfInputError(e) &&
      e.code === 'EPDFTIMEOUT' &&
      e.message === 'Extracting images from the PDF took longer than 300 ms and was stopped.',
  );
  assert.ok(Date.now() - started < 10_000, 'the timeout must not wait for the child to finish');
  assert.deepEqual(await readdir(tempParentDir), []);
});

test('names the poppler-utils package when pdfimages is missing, and reports the capability unavailable', async (t) => {
  const tempParentDir = await createTempDir(t);
  const missing = '/nonexistent/bin/pdfimages';
  await assert.rejects(
    extractPdfImages(Buffer.from('%PDF-1.4\n'), { ...LIMITS, pdfimagesCommand: missing, tempParentDir }),
    (e) => {
      assert.ok(isPdfInputError(e));
      assert.equal(e.code, 'EPDFUNAVAILABLE');
      assert.equal(e.httpStatus, 503);
      assert.match(e.message, /install the Debian package `poppler-utils`/);
      return true;
    },
  );
  const capability = await getPdfCapability(missing);
  assert.equal(capability.status, 'unavailable');
  assert.match(capability.reason ?? '', /poppler-utils/);
  const installed = await getPdfCapability();
  assert.equal(installed.status, 'ok');
  assert.match(installed.version ?? '', /^\d+\.\d+/);
});
