// Stand-ins for the system package manager: a `dpkg-query` reporting
// chosen packages missing and an `apt-get` that records its calls.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createTempDir } from './temp-dir.js';

export interface FakeApt {
  /** Put first on PATH; holds `dpkg-query` and `apt-get`. */
  binDir: string;
  /** The process environment to run the set-up or the test runner with. */
  env: Record<string, string>;
  /** Each apt-get call as `DEBIAN_FRONTEND=<value> <args...>`, in order. */
  readAptGetCalls(): Promise<string[]>;
}

const DPKG_QUERY = `#!/bin/sh
# Fake dpkg-query -W -f=\${Status} NAME: missing when NAME is a line of $FAKE_APT_STATE/missing.
for name; do :; done
if grep -qx -- "$name" "$FAKE_APT_STATE/missing"; then
  echo "dpkg-query: no packages found matching $name" >&2
  exit 1
fi
printf 'install ok installed'
`;

const APT_GET = `#!/bin/sh
# Fake apt-get: records the call; \`install\` removes its package names from $FAKE_APT_STATE/missing.
echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> "$FAKE_APT_STATE/apt-get.log"
if [ -n "$FAKE_APT_EXIT_CODE" ]; then echo "E: fake apt-get failure" >&2; exit "$FAKE_APT_EXIT_CODE"; fi
if [ "$1" = install ]; then
  for arg; do
    case "$arg" in install|-*) ;; *) grep -vx -- "$arg" "$FAKE_APT_STATE/missing" > "$FAKE_APT_STATE/missing.next"; \
mv "$FAKE_APT_STATE/missing.next" "$FAKE_APT_STATE/missing" ;; esac
  done
fi
exit 0
`;

/**
 * A temp dir with the fake tools, readable by every user (the non-root case runs as `nobody`).
 * `aptGetExitCode` makes every apt-get call fail with that code.
 */
export async function createFakeApt(
  t: Parameters<typeof createTempDir>[0],
  options: { missing: string[]; aptGetExitCode?: number },
): Promise<FakeApt> {
  const dir = await createTempDir(t, 'dhash-fake-apt-');
  const binDir = join(dir, 'bin');
  const stateDir = join(dir, 'state');
  await mkdir(binDir);
  await mkdir(stateDir);
  await writeFile(join(binDir, 'dpkg-query'), DPKG_QUERY, { mode: 0o755 });
  await writeFile(join(binDir, 'apt-get'), APT_GET, { mode: 0o755 });
  await writeFile(join(stateDir, 'missing'), options.missing.map((name) => `${name}\n`).join(''));
  await writeFile(join(stateDir, 'apt-get.log'), '');
  await chmod(dir, 0o755);
  await chmod(stateDir, 0o777);
  await chmod(join(stateDir, 'missing'), 0o666);
  await chmod(join(stateDir, 'apt-get.log'), 0o666);
  const env: Record<string, string> = {
    PATH: [binDir, process.env.PATH ?? ''].join(delimiter),
    FAKE_APT_STATE: stateDir,
    HOME: dir,
  };
  if (options.aptGetExitCode !== undefined) env.FAKE_APT_EXIT_CODE = String(options.aptGetExitCode);
  return {
    binDir,
    env,
    async readAptGetCalls() {
      const log = join(stateDir, 'apt-get.log');
      return existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter(Boolean) : [];
    },
  };
}
