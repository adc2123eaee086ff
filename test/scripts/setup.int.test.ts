import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFakeApt } from '../helpers/fake-apt.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { PLATFORM_PACKAGES } from '../../scripts/lib/platform-packages.mjs';

const ALL_PRESENT = `all ${PLATFORM_PACKAGES.length} system packages are present.`;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const setupScript = join(repo, 'scripts/setup.mjs');

interface SetupArgs {
  argv: string[];
  env: Record<string, string>;
  getuid: () => number;
  platform?: string;
  root: string;
}

/** Runs scripts/setup.mjs in this process (so the uid can be chosen), capturing its output. */
async function runSetupInProcess(args: SetupArgs) {
  // A computed specifier: the script is plain .mjs without type declarations.
  const setupUrl = new URL('../../scripts/setup.mjs', import.meta.url).href;
  const { runSetup } = (await import(setupUrl)) as { runSetup: (a: unknown) => number };
  let stdout = '';
  let stderr = '';
  const code = runSetup({
    platform: 'linux',
    ...args,
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** Runs the real script as a process; as root it drops to `nobody`, so the non-root path runs either way. */
function runSetupAsNonRoot(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const isRoot = process.getuid?.() === 0;
  const [command, args] = isRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, setupScript, ...argv]]
    : [process.execPath, [setupScript, ...argv]];
  return runProcess(command as string, args as string[], env);
}

function runProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: repo, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const POPPLER_MISSING_LINES = [
  'setup: 1 system package is missing:',
  '  poppler-utils: pdfimages: PDF image extraction (service, tests) (dpkg reports it not installed)',
];
const POPPLER_COMMAND_LINES = [
  'Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends poppler-utils',
  'then: npm run setup',
  '',
];

test('as root, installs exactly the missing package (one apt-get update, one install), then is a no-op', async (t) => {
  const apt = await createFakeApt(t, { missing: ['poppler-utils'] });
  const root = await createTempDir(t);
  const first = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(first.stderr, '');
  assert.equal(first.stdout, `setup: installing poppler-utils\nsetup: installed poppler-utils; ${ALL_PRESENT}\n`);
  assert.equal(first.code, 0);
  assert.deepEqual(await apt.readAptGetCalls(), [
    'DEBIAN_FRONTEND=noninteractive update -qq',
    'DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends poppler-utils',
  ]);

  const second = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(second.stdout, `setup: ${ALL_PRESENT}\n`);
  assert.equal(second.code, 0);
  assert.equal((await apt.readAptGetCalls()).length, 2, 'nothing missing: apt-get is not called again');
});

test('as a non-root user, names the missing package and the exact command, installs nothing and exits 1', async (t) => {
  const apt = await createFakeApt(t, { missing: ['poppler-utils'] });
  const result = await runSetupAsNonRoot([], apt.env);
  assert.equal(
    result.stderr,
    [...POPPLER_MISSING_LINES, 'setup: cannot install them: not running as root.', ...POPPLER_COMMAND_LINES].join('\n'),
  );
  assert.equal(result.stdout, '');
  assert.equal(result.code, 1);
  assert.deepEqual(await apt.readAptGetCalls(), []);
});

test('when apt-get fails, names the missing package and the exact command and exits 1', async (t) => {
  const apt = await createFakeApt(t, { missing: ['poppler-utils'], aptGetExitCode: 100 });
  const root = await createTempDir(t);
  const result = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(
    result.stderr,
    [
      ...POPPLER_MISSING_LINES,
      'setup: cannot install them: `apt-get update` failed (output above).',
      ...POPPLER_COMMAND_LINES,
    ].join('\n'),
  );
  assert.equal(result.code, 1);
  assert.deepEqual(await apt.readAptGetCalls(), ['DEBIAN_FRONTEND=noninteractive update -qq']);
});

test('when apt-get succeeds but the package is still not present, says so and exits 1', async (t) => {
  const apt = await createFakeApt(t, { missing: ['poppler-utils'] });
  // A fake apt-get that records the call and changes nothing.
  await writeFile(
    join(apt.binDir, 'apt-get'),
    '#!/bin/sh\necho "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> "$FAKE_APT_STATE/apt-get.log"\n',
    { mode: 0o755 },
  );
  const root = await createTempDir(t);
  const result = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(
    result.stderr,
    [
      ...POPPLER_MISSING_LINES,
      'setup: cannot install them: apt-get succeeded but they are still not present.',
      ...POPPLER_COMMAND_LINES,
    ].join('\n'),
  );
  assert.equal(result.code, 1);
});

test('--check reports the missing packages and never calls apt-get, even as root', async (t) => {
  const apt = await createFakeApt(t, { missing: ['chromium', 'prometheus'] });
  const result = await runProcess(process.execPath, [setupScript, '--check'], apt.env);
  assert.equal(
    result.stderr,
    [
      'setup: 2 system packages are missing:',
      '  chromium: renders the monitor HTML report in its test (dpkg reports it not installed)',
      '  prometheus: the real Prometheus the signal-source tests scrape (dpkg reports it not installed)',
      'Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium prometheus',
      'then: npm run setup',
      '',
    ].join('\n'),
  );
  assert.equal(result.code, 1);
  assert.deepEqual(await apt.readAptGetCalls(), []);

  const present = await createFakeApt(t, { missing: [] });
  const ok = await runProcess(process.execPath, [setupScript, '--check'], present.env);
  assert.deepEqual(ok, { code: 0, stdout: `setup: ${ALL_PRESENT}\n`, stderr: '' });
  assert.deepEqual(await present.readAptGetCalls(), []);
});

test('refuses an unknown argument with exit 2', async (t) => {
  const apt = await createFakeApt(t, { missing: [] });
  const result = await runProcess(process.execPath, [setupScript, '--chek'], apt.env);
  assert.equal(result.stderr.split('\n')[0], 'setup: unknown argument `--chek`.');
  assert.equal(result.code, 2);
});

test(`after installing, builds the native addon strictly when native/, node_modules/ and the build \
script exist`, async (t) => {
  const apt = await createFakeApt(t, { missing: ['libjpeg62-turbo-dev'] });
  const root = await createTempDir(t);
  await mkdir(join(root, 'native'));
  await mkdir(join(root, 'node_modules'));
  await mkdir(join(root, 'scripts'));
  await writeFile(
    join(root, 'scripts/build-native.mjs'),
    "import { appendFileSync } from 'node:fs';\nappendFileSync('built.txt', process.argv.slice(2).join(' " +
      "') + '\\n');\n",
  );
  const first = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(first.code, 0);
  assert.match(first.stdout, /^setup: building the native addon \(node scripts\/build-native\.mjs --strict\)$/m);
  assert.equal(await readFile(join(root, 'built.txt'), 'utf8'), '--strict\n');

  const second = await runSetupInProcess({ argv: [], env: apt.env, getuid: () => 0, root });
  assert.equal(second.code, 0);
  assert.equal(await readFile(join(root, 'built.txt'), 'utf8'), '--strict\n', 'nothing installed: no rebuild');
});
