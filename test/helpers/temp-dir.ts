// Temporary folders for tests, removed when the test ends (kept when DHASH_KEEP_TMP=1, for debugging).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export async function createTempDir(
  t: TestContext | { after: (fn: () => Promise<void>) => void },
  prefix = 'dhash-test-',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    if (!process.env.DHASH_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
