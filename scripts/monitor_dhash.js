#!/usr/bin/env node
// Operator entry point: a thin shim over `dhash monitor` (T+60 monitor, quality gates, auto-rollback).
// Usage: node scripts/monitor_dhash.js --env <name> [--deploy <id>] [--resume] [--dry-run] [--from-now]
import { runBuiltCli } from './lib/run-built-cli.js';

await runBuiltCli('monitor', { isRepoRootCwd: true });
