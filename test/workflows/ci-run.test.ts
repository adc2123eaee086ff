import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The Quick start's bash block: one command per line, each without its trailing `# comment`. */
async function getQuickStartCommands(): Promise<string[]> {
  const readme = await readFile(`${repo}/README.md`, 'utf8');
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  assert.ok(section, 'README.md has a "## Quick start" section');
  const block = /^```bash\n([\s\S]*?)^```$/m.exec(section)?.[1];
  assert.ok(block, 'the Quick start has a bash block');
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/**
 * .ci/run's commands: every line but the shebang, comments, blank lines, `set -euo pipefail` and the `cd` to the root.
 */
async function getCiRunCommands(): Promise<{ preamble: string[]; commands: string[] }> {
  const lines = (await readFile(`${repo}/.ci/run`, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const preamble = lines.filter((l) => l === 'set -euo pipefail' || l.startsWith('cd '));
  return { preamble, commands: lines.filter((l) => !preamble.includes(l)) };
}

test("the README's Quick start has the main job and the test command, each with its own set-up", async () => {
  assert.deepEqual(await getQuickStartCommands(), [
    'npm ci && npm run setup && ./quick-deploy.sh --env local',
    'npm ci && npm run setup && npm test',
  ]);
});

test(".ci/run runs exactly the README's test command and installs nothing of its own", async () => {
  const testCommand = (await getQuickStartCommands()).find((c) => c.endsWith('npm test'));
  const ci = await getCiRunCommands();
  assert.deepEqual(ci.preamble, ['set -euo pipefail', 'cd "$(dirname "$0")/.."']);
  assert.deepEqual(ci.commands, [testCommand]);
  assert.doesNotMatch(await readFile(`${repo}/.ci/run`, 'utf8'), /apt-get|dpkg/);
});
