// Shared by the Node shims: runs the built `dhash` CLI (dist/cli/main.js)
// with a fixed command before the operator's arguments.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = new URL('../../', import.meta.url);
const main = new URL('dist/cli/main.js', repoRoot);

/**
 * `isRepoRootCwd`: run from the repository root whatever the caller's folder (as the bash shims do).
 * main.js owns signals, exit codes and broken pipes, so the shims never repeat that logic.
 */
export async function runBuiltCli(command, { isRepoRootCwd = false } = {}) {
  if (!existsSync(main)) {
    process.stderr.write('dhash: dist/ is missing; run npm ci first (it builds the toolkit).\n');
    process.exit(2);
  }
  if (isRepoRootCwd) process.chdir(fileURLToPath(repoRoot));
  process.argv.splice(2, 0, command);
  await import(main.href);
}
