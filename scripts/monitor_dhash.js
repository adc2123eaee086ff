#!/usr/bin/env node
// Operator entry point: a thin shim over `dhash monitor` (T+60 monitor, quality gates, auto-rollback). Usage: node scripts/monitor_dhash.js --env <name> [--dry-run] [--from-now]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const runFile = join(repoRoot, 'dist', 'cli', 'run.js');
const clockFile = join(repoRoot, 'dist', 'rollout', 'core', 'clock.js');
if (!existsSync(runFile) || !existsSync(clockFile)) {
  process.stderr.write('dhash: dist/cli/run.js is missing; run npm ci first (it builds the toolkit).\n');
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(runFile).href);
const { createSystemClock } = await import(pathToFileURL(clockFile).href);

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => controller.abort(new Error(`received ${signal}`)));

const code = await runCli(['monitor', ...process.argv.slice(2)], {
  cwd: repoRoot,
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  clock: createSystemClock(),
  signal: controller.signal,
});
process.exitCode = code;
setTimeout(() => process.exit(code), 50).unref();
