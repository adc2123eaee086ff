// The system packages the tests and the main job need, and how to
// tell whether each is present (setup and test runner share it).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/**
 * One row per Debian/Ubuntu package. `provesPresent` is the file the project actually uses from it; it decides
 * presence where there is no dpkg, and catches a package dpkg calls installed whose file is not there.
 * `isNeededByTests` rows are checked by test/run-tests.mjs before any suite starts.
 */
export const PLATFORM_PACKAGES = [
  {
    name: 'poppler-utils',
    why: 'pdfimages: PDF image extraction (service, tests)',
    provesPresent: '/usr/bin/pdfimages',
    isNeededByTests: true,
  },
  {
    name: 'chromium',
    why: 'renders the monitor HTML report in its test',
    provesPresent: '/usr/bin/chromium',
    isNeededByTests: true,
  },
  {
    name: 'prometheus',
    why: 'the real Prometheus the signal-source tests scrape',
    provesPresent: '/usr/bin/prometheus',
    isNeededByTests: true,
  },
  {
    name: 'python3-pil',
    why: 'the Pillow imagehash reference the exact hash is compared with',
    provesPresent: '/usr/lib/python3/dist-packages/PIL/__init__.py',
    isNeededByTests: true,
  },
  {
    name: 'python3-numpy',
    why: 'the Pillow imagehash reference (numpy arrays)',
    provesPresent: '/usr/lib/python3/dist-packages/numpy/__init__.py',
    isNeededByTests: true,
  },
  { name: 'zip', why: 'the backup benchmark baseline (zip -r)', provesPresent: '/usr/bin/zip', isNeededByTests: true },
  {
    name: 'unzip',
    why: 'the backup benchmark baseline and manual restores (unzip)',
    provesPresent: '/usr/bin/unzip',
    isNeededByTests: true,
  },
  {
    name: 'sqlite3',
    why: 'inspecting the service database by hand (runbook)',
    provesPresent: '/usr/bin/sqlite3',
    isNeededByTests: true,
  },
  {
    name: 'systemd',
    why: 'systemctl for the systemd target driver',
    provesPresent: '/usr/bin/systemctl',
    isNeededByTests: true,
  },
  {
    name: 'libjpeg62-turbo-dev',
    why: 'jpeglib.h for the native hashing addon (native/)',
    provesPresent: '/usr/include/jpeglib.h',
    isNeededByTests: false,
  },
  {
    name: 'postgresql-15',
    why: 'PostgreSQL for the store tests, pg_dump/pg_restore for PostgreSQL backups',
    provesPresent: '/usr/lib/postgresql/15/bin/postgres',
    isNeededByTests: true,
  },
  {
    name: 'openssh-server',
    why: "sshd on the fleet tests' hosts",
    provesPresent: '/usr/sbin/sshd',
    isNeededByTests: true,
  },
  {
    name: 'openssh-client',
    why: "ssh, the fleet rollout's way to its hosts",
    provesPresent: '/usr/bin/ssh',
    isNeededByTests: true,
  },
  { name: 'iproute2', why: 'ip netns for the fleet tests', provesPresent: '/usr/sbin/ip', isNeededByTests: true },
];

/** The command a human runs to install `names`. */
export function formatInstallCommand(names) {
  return `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${names.join(' ')}`;
}

/**
 * Asks dpkg-query for one package. Returns 'installed', 'missing', or 'no-dpkg' when dpkg-query cannot run.
 * Never throws.
 */
export function getDpkgStatus(name, env = process.env) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { env, encoding: 'utf8' });
  if (result.error) return 'no-dpkg';
  // `install ok installed` or `hold ok installed`; `unknown ok
  // not-installed`, `deinstall ok config-files` or exit 1 otherwise.
  return result.status === 0 && / ok installed$/.test(result.stdout.trim()) ? 'installed' : 'missing';
}

/**
 * The rows of `packages` that are not present, each with the reason. Present means dpkg reports it installed
 * (when dpkg exists) and its `provesPresent` file exists. Never throws.
 */
export function findMissingPackages(packages = PLATFORM_PACKAGES, { env = process.env, exists = existsSync } = {}) {
  const missing = [];
  for (const pkg of packages) {
    const status = getDpkgStatus(pkg.name, env);
    if (status === 'missing') missing.push({ ...pkg, reason: 'dpkg reports it not installed' });
    else if (!exists(pkg.provesPresent)) missing.push({ ...pkg, reason: `${pkg.provesPresent} is missing` });
  }
  return missing;
}
