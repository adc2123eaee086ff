// Runs a release's own `dhash host <sub>` on a fleet host over ssh and turns its one JSON answer into a result or the
// host's coded error, named by host.
import { DhashError, createError } from '../../../lib/errors.js';
import { UNEXPECTED_ERROR_CODE, parseHostAnswer } from '../../host/host-answer.js';
import type { HostCommandName } from '../../host/host-report.js';
import type { SshClient, SshRunResult } from './ssh-client.js';

export interface HostCli {
  /** The argv of `<nodePath> <root>/releases/<id>/dist/cli/main.js host <sub> --root <root> --env-name <env> …`. */
  getArgv(releaseId: string, command: HostCommandName, args: readonly string[]): string[];
  /**
   * Runs it and returns the answer's result and exit code. An error answer throws the host's own code (ELOCKED,
   * ECHECKSUMMISMATCH…) with the host named in the message; no usable answer throws EHOSTBADANSWER.
   */
  call<T>(
    releaseId: string,
    command: HostCommandName,
    args: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<{ result: T; exitCode: number }>;
  /** The same for the output of a command already run (a script that picks the release itself). */
  readAnswer<T>(run: SshRunResult, command: HostCommandName): { result: T; exitCode: number };
}

/** Commands after which, without an answer, nobody knows what the host did. */
const CHANGING_COMMANDS: readonly HostCommandName[] = ['activate', 'rollback'];

export function createHostCli(
  client: SshClient,
  settings: { hostName: string; root: string; nodePath: string; envName: string },
): HostCli {
  const getArgv: HostCli['getArgv'] = (releaseId, command, args) => [
    settings.nodePath,
    `${settings.root}/releases/${releaseId}/dist/cli/main.js`,
    'host',
    command,
    '--root',
    settings.root,
    '--env-name',
    settings.envName,
    ...args,
  ];
  const readAnswer: HostCli['readAnswer'] = <T>(run: SshRunResult, command: HostCommandName) => {
    const parsed = parseHostAnswer<T>(run.stdout, command);
    const isStateUnknown = CHANGING_COMMANDS.includes(command);
    if ('reason' in parsed) {
      const said = run.stderr.trim().split('\n').pop();
      const reason = `${parsed.reason} (exit ${run.exitCode}${said ? `; stderr: ${said.slice(0, 200)}` : ''})`;
      throw createError('EHOSTBADANSWER', { host: settings.hostName, command, reason, isStateUnknown });
    }
    const { answer } = parsed;
    if ('error' in answer) {
      if (answer.error.code === UNEXPECTED_ERROR_CODE)
        throw createError('EHOSTBADANSWER', {
          host: settings.hostName,
          command,
          reason: `it failed unexpectedly: ${answer.error.message}`,
          isStateUnknown,
        });
      throw createRemoteError(settings.hostName, answer.error, answer.exitCode);
    }
    return { result: answer.result, exitCode: answer.exitCode };
  };
  return {
    getArgv,
    readAnswer,
    call: async (releaseId, command, args, options) =>
      readAnswer(await client.run(getArgv(releaseId, command, args), { timeoutMs: options?.timeoutMs }), command),
  };
}

/**
 * The host's coded error as a DhashError of the same code and exit code: its message and details were made from the
 * registry on the host; the host's name is put in front so a fleet's errors say where.
 */
export function createRemoteError(
  hostName: string,
  error: { code: string; message: string; details: string },
  exitCode: number,
): DhashError {
  return new DhashError(error.code, {
    message: `On host ${hostName}: ${error.message}`,
    details: error.details,
    exitCode: exitCode as DhashError['exitCode'],
  });
}
