#!/usr/bin/env node
// Operator entry point: `node scripts/deploy/deploy-notify.js <event> --env E [--dry-run] [--duration "5m 30s"]` = `dhash notify ...`.
import { existsSync } from 'node:fs';

const dist = new URL('../../dist/', import.meta.url);
if (!existsSync(new URL('cli/run.js', dist))) {
  console.error('run npm ci first (dist/ is missing)');
  process.exit(2);
}
const { runCli } = await import(new URL('cli/run.js', dist).href);
const { createSystemClock } = await import(new URL('rollout/core/clock.js', dist).href);
const code = await runCli(['notify', ...process.argv.slice(2)], {
  cwd: process.cwd(),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  clock: createSystemClock(),
});
process.exitCode = code;
// Like dist/cli/main.js: a stray keep-alive socket must not hold a finished command open.
setTimeout(() => process.exit(code), 50).unref();
