// Pillow itself judges the hand-built PNGs: its convert("L") pixels and the dhash, against the native decoder's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hashImageDetailed } from '../../../src/service/hash/hash-image.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { buildPng, createPngSpecs, getPngSpecName } from './png-fixtures.js';

const run = promisify(execFile);
/** Debian's interpreter, where python3-pil installs. */
const PYTHON = '/usr/bin/python3';
const DHASH_SCRIPT = fileURLToPath(new URL('../../reference/pillow_dhash.py', import.meta.url));
const LUMA_SCRIPT =
  'import sys\nfrom PIL import Image\nfor p in sys.argv[1:]: print(Image.open(p).convert("L").tobytes().hex())';

test(
  "Pillow's L pixels and dhash equal the native decoder's on every hand-built PNG variant",
  { timeout: 120_000 },
  async (t) => {
    const dir = await createTempDir(t);
    const files: { path: string; expectedLuma: Uint8Array; hash: string; decoder: string }[] = [];
    for (const spec of createPngSpecs()) {
      const { bytes, expectedLuma } = buildPng(spec);
      const path = join(dir, getPngSpecName(spec));
      await writeFile(path, bytes);
      const { hash, decoder } = await hashImageDetailed(bytes);
      files.push({ path, expectedLuma, hash, decoder });
    }
    const { stdout: lumaOut } = await run(PYTHON, ['-c', LUMA_SCRIPT, ...files.map((f) => f.path)], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const { stdout: hashOut } = await run(PYTHON, [DHASH_SCRIPT, ...files.map((f) => f.path)], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const pillowLuma = lumaOut.trim().split('\n');
    const pillowHash = new Map(
      hashOut
        .trim()
        .split('\n')
        .map((line) => [line.split('\t')[3], line.split('\t')[0]]),
    );
    const problems: string[] = [];
    files.forEach((file, i) => {
      if (file.decoder !== 'native-png') problems.push(`${file.path}: served by ${file.decoder}`);
      if (pillowLuma[i] !== Buffer.from(file.expectedLuma).toString('hex'))
        problems.push(`${file.path}: L pixels differ from Pillow's`);
      if (pillowHash.get(file.path) !== file.hash)
        problems.push(`${file.path}: ours ${file.hash}, Pillow ${pillowHash.get(file.path)}`);
    });
    t.diagnostic(`${files.length} PNG variants compared with Pillow`);
    assert.deepEqual(problems, []);
  },
);
