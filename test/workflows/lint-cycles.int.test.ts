import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers/temp-dir.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

async function getScripts(): Promise<Record<string, string>> {
  return (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts;
}

function runScript(script: string, cwd: string): Promise<{ code: number; output: string }> {
  const env = { ...process.env, PATH: [join(repo, 'node_modules/.bin'), process.env.PATH ?? ''].join(delimiter) };
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { cwd, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

test('npm run lint runs eslint, prettier --check and then the circular-import check', async () => {
  const scripts = await getScripts();
  assert.equal(scripts.lint, 'eslint . && prettier --check . && npm run lint:cycles');
  assert.equal(scripts['lint:cycles'], 'node scripts/check-cycles.mjs');
  const checker = await readFile(join(repo, 'scripts/check-cycles.mjs'), 'utf8');
  assert.match(checker, /'--transform', '--exit-code', 'circular:1'/);
  assert.match(checker, /\['src\/\*\*\/\*\.ts', 'test\/\*\*\/\*\.ts', 'bench\/\*\*\/\*\.ts'\]/);
});

test('the circular-import check fails on a load-time cycle and ignores a type-only one', async (t) => {
  const dir = await createTempDir(t);
  await mkdir(join(dir, 'src'));
  await copyFile(join(repo, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  await writeFile(
    join(dir, 'src/a.ts'),
    "import { b } from './b.js';\nexport const a = (): number => b() + 1;\nexport interface A { n: number }\n",
  );
  await writeFile(join(dir, 'src/b.ts'), "import { a } from './a.js';\nexport const b = (): number => a();\n");
  await writeFile(join(dir, 'src/c.ts'), "import type { A } from './a.js';\nexport const c = (x: A): number => x.n;\n");
  // The same checker npm run lint:cycles runs, pointed at this folder.
  const script = `node ${JSON.stringify(join(repo, 'scripts/check-cycles.mjs'))}`;

  const cyclic = await runScript(script, dir);
  assert.equal(cyclic.code, 1, cyclic.output);
  assert.match(cyclic.output, /^ {2}1\) src\/b\.ts -> src\/a\.ts$/m);
  assert.doesNotMatch(cyclic.output, /c\.ts/);

  await writeFile(join(dir, 'src/b.ts'), 'export const b = (): number => 1;\n');
  const clean = await runScript(script, dir);
  assert.equal(clean.code, 0, clean.output);
  assert.match(clean.output, /no circular dependency was found/);
});
