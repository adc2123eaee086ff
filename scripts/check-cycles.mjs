#!/usr/bin/env node
// Fails when a module imports, at load time, a module that imports it back (type-only imports are ignored).
// One definition for `npm run lint:cycles` and premerge's check:cycles step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// The project is the working folder: npm runs scripts from the package root, and premerge passes it as cwd.
const root = process.cwd();
const dpdm = createRequire(import.meta.url).resolve('dpdm/lib/bin/dpdm.js');
const patterns = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'];
const args = ['--no-tree', '--no-warning', '--no-progress', '--transform', '--exit-code', 'circular:1', ...patterns];
const result = spawnSync(process.execPath, [dpdm, ...args], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
