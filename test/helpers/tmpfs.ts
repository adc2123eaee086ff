// Small real filesystems for disk-full tests: a tmpfs of a given size, unmounted when the test ends.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type After = { after: (fn: () => Promise<void>) => void };

/**
 * Mounts a tmpfs of `sizeMb`; a host that cannot mount fails the
 * test with one line naming what is missing, never skips it.
 */
export async function mountTmpfs(t: After, sizeMb: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dhash-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message)
      .trim()
      .split('\n')[0];
    throw new Error(`cannot mount a ${sizeMb} MB tmpfs (needs root or CAP_SYS_ADMIN and the mount binary): ${stderr}`);
  }
  t.after(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the filesystem holding `dir` to the last byte with one file (`name`), as a disk filled by something else. */
export async function fillFilesystem(dir: string, name = 'filler.bin'): Promise<void> {
  const handle = await open(join(dir, name), 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}
