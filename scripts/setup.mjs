#!/usr/bin/env node
// Installs the missing system packages of scripts/lib/platform-packages.mjs
// (as root, with apt), or names them and the command to run.
// Usage: node scripts/setup.mjs [--check]   (plain Node, no dependencies: it runs before `npm ci` too)
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findMissingPackages, formatInstallCommand, PLATFORM_PACKAGES } from './lib/platform-packages.mjs';

const USAGE =
  'Usage: node scripts/setup.mjs [--check]\n  --check  only report missing system packages (exit 1 if ' +
  'any), install nothing';

/** True when `command` is an executable file in one of env.PATH's directories. */
function isOnPath(command, env) {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why this process cannot install packages, or undefined when it can. */
function getCannotInstallReason({ env, getuid, platform }) {
  if (platform !== 'linux') return `this is ${platform}, and the package table names Debian/Ubuntu packages`;
  if (!isOnPath('apt-get', env) || !isOnPath('dpkg-query', env))
    return 'apt-get or dpkg-query is not on PATH (not Debian/Ubuntu?)';
  if (getuid() !== 0) return 'not running as root';
  return undefined;
}

function writeMissing(stderr, missing) {
  stderr.write(`setup: ${missing.length} system package${missing.length === 1 ? ' is' : 's are'} missing:\n`);
  for (const pkg of missing) stderr.write(`  ${pkg.name}: ${pkg.why} (${pkg.reason})\n`);
}

function writeInstructions(stderr, missing, reason) {
  writeMissing(stderr, missing);
  if (reason) stderr.write(`setup: cannot install them: ${reason}.\n`);
  stderr.write(`Run: ${formatInstallCommand(missing.map((p) => p.name))}\n`);
  stderr.write('then: npm run setup\n');
}

/** Runs one apt-get command with the terminal attached; returns true on exit 0. */
function runAptGet(args, env) {
  const result = spawnSync('apt-get', args, { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'inherit' });
  return result.status === 0;
}

/**
 * After installing: build the native addon strictly, now that
 * its headers are there (scripts/build-native.mjs owns how).
 */
function buildNativeAddon({ root, env, stdout }) {
  const script = join(root, 'scripts', 'build-native.mjs');
  if (!existsSync(join(root, 'native')) || !existsSync(join(root, 'node_modules')) || !existsSync(script)) return true;
  stdout.write('setup: building the native addon (node scripts/build-native.mjs --strict)\n');
  const result = spawnSync(process.execPath, [script, '--strict'], { cwd: root, env, stdio: 'inherit' });
  return result.status === 0;
}

/**
 * The whole set-up; returns the exit code: 0 everything present (or now installed), 1 something is missing,
 * 2 bad usage. Idempotent: with everything present it only asks dpkg (about a second).
 */
export function runSetup({ argv, env, stdout, stderr, getuid, platform, root }) {
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    stderr.write(`setup: unknown argument \`${unknown[0]}\`.\n${USAGE}\n`);
    return 2;
  }
  const isCheckOnly = argv.includes('--check');
  const missing = findMissingPackages(PLATFORM_PACKAGES, { env });
  if (missing.length === 0) {
    stdout.write(`setup: all ${PLATFORM_PACKAGES.length} system packages are present.\n`);
    return 0;
  }
  if (isCheckOnly) {
    writeInstructions(stderr, missing, undefined);
    return 1;
  }
  const reason = getCannotInstallReason({ env, getuid, platform });
  if (reason) {
    writeInstructions(stderr, missing, reason);
    return 1;
  }
  const names = missing.map((p) => p.name);
  stdout.write(`setup: installing ${names.join(' ')}\n`);
  if (!runAptGet(['update', '-qq'], env)) {
    writeInstructions(stderr, missing, '`apt-get update` failed (output above)');
    return 1;
  }
  if (!runAptGet(['install', '-y', '-qq', '--no-install-recommends', ...names], env)) {
    writeInstructions(stderr, missing, '`apt-get install` failed (output above)');
    return 1;
  }
  const stillMissing = findMissingPackages(missing, { env });
  if (stillMissing.length > 0) {
    writeInstructions(stderr, stillMissing, 'apt-get succeeded but they are still not present');
    return 1;
  }
  stdout.write(`setup: installed ${names.join(' ')}; all ${PLATFORM_PACKAGES.length} system packages are present.\n`);
  if (!buildNativeAddon({ root, env, stdout })) {
    stderr.write('setup: `node scripts/build-native.mjs --strict` failed (output above).\n');
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = runSetup({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    getuid: () => (process.getuid ? process.getuid() : -1),
    platform: process.platform,
    root: fileURLToPath(new URL('..', import.meta.url)),
  });
}
