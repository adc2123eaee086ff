import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMANDS, loadCommands } from '../../src/cli/commands/all-commands.js';
import type { CliContext } from '../../src/cli/context.js';

const ctx = {} as CliContext; // registration only declares commands; no action runs here
const noRun = () => async () => {};

async function getRegisteredNames(entry: (typeof COMMANDS)[number]): Promise<string[]> {
  const program = new Command('dhash');
  (await entry.load())(program, ctx, noRun);
  return program.commands.map((c) => c.name());
}

test('every lazily loaded command module registers exactly the top-level names its entry declares', async () => {
  for (const entry of COMMANDS) assert.deepEqual(await getRegisteredNames(entry), [...entry.names]);
  const all = COMMANDS.flatMap((c) => c.names);
  assert.equal(new Set(all).size, all.length, 'no command name is declared twice');
});

test('a command line naming a command loads only its module; help, version and unknown words load all', async () => {
  assert.equal((await loadCommands(['serve', '--port', '8787'])).length, 1);
  const [serve] = await loadCommands(['serve']);
  const program = new Command('dhash');
  serve(program, ctx, noRun);
  assert.deepEqual(
    program.commands.map((c) => c.name()),
    ['serve'],
  );
  assert.equal((await loadCommands(['backup', 'verify', 'x.zip'])).length, 1);
  for (const argv of [['--help'], ['-V'], ['nosuch'], []]) {
    assert.equal((await loadCommands(argv)).length, COMMANDS.length, argv.join(' '));
  }
});
