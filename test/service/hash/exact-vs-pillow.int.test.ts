// The reference check: exact mode against Debian's Pillow +
// numpy running the imagehash dhash recipe, on generated images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createEdgeCaseImages, createFixtureImage, createFixtureSet, getFixtureName } from '../../helpers/images.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { hammingDistance, hashImage } from '../../../src/service/hash/hash-image.js';

const run = promisify(execFile);
/** Debian's interpreter, where python3-pil and python3-numpy install (a pyenv python3 on PATH would lack them). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../reference/pillow_dhash.py', import.meta.url));

async function assertPillowAvailable(): Promise<string> {
  try {
    const { stdout } = await run(PYTHON, ['-c', 'import PIL, numpy; print(PIL.__version__)']);
    return stdout.trim();
  } catch (error) {
    assert.fail(
      `The Pillow reference needs ${PYTHON} with PIL and numpy: install the Debian packages python3-pil ` +
        `python3-numpy ` +
        `(sudo apt-get install -y python3-pil python3-numpy). Cause: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/** Runs the reference once over all files: path → hash (or the Python error). */
async function hashWithPillow(files: string[]): Promise<Map<string, string>> {
  const { stdout } = await run(PYTHON, [SCRIPT, ...files], { maxBuffer: 64 * 1024 * 1024 });
  const hashes = new Map<string, string>();
  for (const line of stdout.trim().split('\n')) {
    const [hash, msOrReason, , path] = line.split('\t');
    hashes.set(path, hash === 'ERROR' ? `ERROR ${msOrReason}` : hash);
  }
  return hashes;
}

test('exact mode equals Pillow + imagehash dhash on every generated image (100 %)', { timeout: 600_000 }, async (t) => {
  const pillowVersion = await assertPillowAvailable();
  const dir = await createTempDir(t);
  const images: { name: string; bytes: Buffer }[] = [];
  for (const spec of createFixtureSet({ includeHuge: true }))
    images.push({ name: getFixtureName(spec), bytes: await createFixtureImage(spec) });
  images.push(...(await createEdgeCaseImages()));
  assert.ok(images.length >= 60, `only ${images.length} images`);

  const ours = new Map<string, { exact: string; fast: string }>();
  for (const { name, bytes } of images) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    ours.set(path, { exact: (await hashImage(bytes)).hash, fast: (await hashImage(bytes, { mode: 'fast' })).hash });
  }
  const pillow = await hashWithPillow([...ours.keys()]);

  const mismatches = [...ours]
    .filter(([path, h]) => pillow.get(path) !== h.exact)
    .map(([path, h]) => `${path}: ours ${h.exact}, Pillow ${pillow.get(path)}`);
  t.diagnostic(`Pillow ${pillowVersion}; ${images.length} images; exact mismatches: ${mismatches.length}`);
  // Smooth content (photos, gradients, flat) is what fast mode is for; noise and ±2-level near-flat images have
  // no stable structure at 9×8, so any resampler difference reshuffles their bits. Report both groups.
  const isChaotic = (path: string) => /\/(noise|near-flat|checkerboard)-/.test(path);
  for (const [label, wanted] of [
    ['smooth (photo, gradient, flat, edge cases)', false],
    ['chaotic (noise, near-flat, checkerboard)', true],
  ] as const) {
    const distances = [...ours]
      .filter(([path]) => isChaotic(path) === wanted)
      .map(([, h]) => hammingDistance(h.exact, h.fast));
    t.diagnostic(`fast vs exact, ${label}: ${describeDistribution(distances)}`);
  }
  assert.deepEqual(mismatches, []);
});

function describeDistribution(distances: number[]): string {
  const sorted = [...distances].sort((a, b) => a - b);
  const histogram = new Map<number, number>();
  for (const d of sorted) histogram.set(d, (histogram.get(d) ?? 0) + 1);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return (
    `${sorted.length} images; ${[...histogram].map(([d, n]) => `${d} bits: ${n}`).join(', ')}; median ` +
    `${at(0.5)}, p95 ${at(0.95)}, max ${at(1)}`
  );
}
