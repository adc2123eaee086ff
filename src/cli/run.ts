// The CLI as a function: parse → run the command → map the outcome to an exit code. Touches no global state.
import { Command, CommanderError } from 'commander';
import type { CliContext, RunAction } from './context.js';
import { loadCommands } from './commands/all-commands.js';
import { ExitCode, EXIT_CODE_HELP } from '../lib/exit-codes.js';
import { isDhashError } from '../lib/errors.js';
import { createRedactor } from '../lib/redact.js';
import { createMonitorWarningHook } from './monitor-warning.js';

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const redact = createRedactor(ctx.processEnv);
  let exitCode: number = ExitCode.OK;
  const program = new Command('dhash')
    .description('dhash: perceptual difference hashing service and its guarded-rollout toolkit')
    .version(await readVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(redact(s)),
    })
    .exitOverride()
    .addHelpText('afterAll', `\n${EXIT_CODE_HELP}\n`);

  const run: RunAction =
    (fn) =>
    async (...args) => {
      const code = await fn(...args);
      exitCode = typeof code === 'number' ? code : ExitCode.OK;
    };
  for (const register of await loadCommands(argv)) register(program, ctx, run);
  program.hook('preAction', createMonitorWarningHook(ctx));
  // Subcommands inherit the output settings and the exit-code table in their help.
  const applyToAll = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub
        .exitOverride()
        .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(redact(s)) });
      applyToAll(sub);
    }
  };
  applyToAll(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (isDhashError(error)) {
      ctx.stderr.write(redact(`dhash: ${error.message}\n${error.details ? error.details + '\n' : ''}`));
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.stderr.write(redact(`dhash: unexpected error: ${message}\n`));
    return ExitCode.FAILED;
  }
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}
