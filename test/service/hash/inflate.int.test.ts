// Our IDAT inflater (native/src/inflate*.c) against zlib, compiled with AddressSanitizer and UBSan: it parses uploads.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../../helpers/temp-dir.js';

const run = promisify(execFile);
const NATIVE = fileURLToPath(new URL('../../../native/', import.meta.url));
const COMPILER = '/usr/bin/gcc';
/** About 25 s under the sanitizers on a 2-CPU machine; each iteration is 21 compared cases. */
const ITERATIONS = 600;
const SANITIZED = ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

/** A wrapper whose inflater flips a bit in the middle of every output over 1000 bytes: the harness must catch it. */
const BROKEN_INFLATER = `
#include "inflate.h"
int real_dhash_inflate_zlib(const uint8_t *, size_t, uint8_t *, size_t, uint32_t (*)(const uint8_t *, size_t));
int dhash_inflate_zlib(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes,
                       uint32_t (*adler32_of)(const uint8_t *, size_t)) {
  int status = real_dhash_inflate_zlib(in, in_bytes, out, out_bytes, adler32_of);
  if (status == 0 && out_bytes > 1000) out[out_bytes / 2] ^= 1;
  return status;
}
`;

/** Compiles the differential harness over inflate.c, or over BROKEN_INFLATER wrapping it. */
async function buildHarness(t: TestContext, isBroken = false): Promise<string> {
  if (!existsSync(COMPILER)) assert.fail(`${COMPILER} is missing: install gcc (Debian's build-essential)`);
  if (!existsSync('/usr/include/zlib.h')) assert.fail('zlib.h is missing: run the set-up command (zlib1g-dev)');
  const dir = await createTempDir(t, 'dhash-inflate-');
  const binary = join(dir, 'inflate-differential');
  const inflater = join(NATIVE, 'src', 'inflate.c');
  const sources = [join(NATIVE, 'test', 'inflate-differential.c'), inflater, join(NATIVE, 'src', 'inflate-tables.c')];
  if (isBroken) {
    await writeFile(join(dir, 'broken.c'), BROKEN_INFLATER);
    sources.push(join(dir, 'broken.c'));
  }
  // Each file is compiled on its own, so that the rename reaches inflate.c only, not the harness or the wrapper.
  const objects: string[] = [];
  for (const [i, source] of sources.entries()) {
    const object = join(dir, `${i}.o`);
    const rename = isBroken && source === inflater ? ['-Ddhash_inflate_zlib=real_dhash_inflate_zlib'] : [];
    await run(COMPILER, [
      ...SANITIZED,
      '-Wall',
      '-Werror',
      `-I${join(NATIVE, 'src')}`,
      ...rename,
      '-c',
      source,
      '-o',
      object,
    ]);
    objects.push(object);
  }
  await run(COMPILER, [...SANITIZED, ...objects, '-lz', '-lpthread', '-o', binary]);
  return binary;
}

test(`inflates every zlib-written stream, and accepts or refuses damaged, cut, mis-sized and garbage streams \
exactly as zlib does, with no memory error`, async (t) => {
  const binary = await buildHarness(t);
  for (const seed of ['1', '20261202']) {
    // A hang would be a decoder that stops consuming input: the timeout turns it into a failure.
    const { stdout } = await run(binary, [String(ITERATIONS / 2), seed], { timeout: 120_000 });
    const summary = /^(\d+) clean streams inflated, (\d+) cases compared with zlib, (\d+) mismatches$/m.exec(stdout);
    assert.ok(summary, `unexpected output: ${stdout}`);
    assert.deepEqual(
      { clean: Number(summary[1]), cases: Number(summary[2]), mismatches: Number(summary[3]) },
      { clean: ITERATIONS / 2, cases: (ITERATIONS / 2) * 21, mismatches: 0 },
      stdout,
    );
  }
});

test('the harness fails, naming the case, when the inflater gets a byte wrong', async (t) => {
  const binary = await buildHarness(t, true);
  await assert.rejects(run(binary, ['20', '1'], { timeout: 120_000 }), (error: { code?: number; stdout?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stdout ?? '', /^MISMATCH clean stream at iteration \d+: \d+ bytes, level \d$/m);
    assert.match(error.stdout ?? '', /, [1-9]\d* mismatches$/m);
    return true;
  });
});
