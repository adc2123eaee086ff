#!/usr/bin/env node
// Operator entry point: `node scripts/deploy/deploy-notify.js <event>
// --env E [--dry-run] [--duration "5m 30s"]` = `dhash notify ...`.
import { runBuiltCli } from '../lib/run-built-cli.js';

// The project root is found from the caller's folder, so a copy of the scripts can notify for another checkout.
await runBuiltCli('notify');
