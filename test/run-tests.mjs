#!/usr/bin/env node
// Runs the node:test suites with explicit file paths (Node 20 finds no .ts files on its own).
// Usage: node test/run-tests.mjs [unit|integration|all] [extra file filters...]
// Integration suites are named *.int.test.ts; everything else ending in .test.ts is a unit suite.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findMissingPackages, PLATFORM_PACKAGES } from '../scripts/lib/platform-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const kind = process.argv[2] ?? 'all';
const filters = process.argv.slice(3);
if (!['unit', 'integration', 'all'].includes(kind)) {
  console.error(`Expected the first argument to be unit, integration or all, got \`${kind}\`.`);
  process.exit(2);
}

// Check the system packages once, up front: a missing one used to surface as a dozen scattered failures (issue 10).
// The table names Debian/Ubuntu packages, so other platforms (the macOS/Windows premerge legs) are not checked.
if (process.platform === 'linux') {
  const missing = findMissingPackages(PLATFORM_PACKAGES.filter((p) => p.isNeededByTests));
  if (missing.length > 0) {
    const names = missing.map((p) => `${p.name} (${p.reason})`).join(', ');
    console.error(`Missing system package${missing.length === 1 ? '' : 's'} ${names}: run \`npm run setup\` first.`);
    process.exit(1);
  }
}

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = listTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => kind === 'all' || (kind === 'integration') === f.endsWith('.int.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`No ${kind} test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}.`);
  process.exit(1);
}
const concurrency = process.env.DHASH_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
