// Builds and reads the one JSON document of `dhash host <sub>` (host-report.ts), the same way on both ends.
import { isDhashError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { HOST_ANSWER_FORMAT, type HostAnswer, type HostCommandName, type HostErrorReport } from './host-report.js';

/** The code an answer carries for an error that is not a DhashError (a bug, an fs error): never a registry code. */
export const UNEXPECTED_ERROR_CODE = 'EUNEXPECTED';

export function createResultAnswer<T>(command: HostCommandName, result: T, exitCode: number): HostAnswer<T> {
  return { format: HOST_ANSWER_FORMAT, command, ok: exitCode === ExitCode.OK, exitCode, result };
}

export function createErrorAnswer(command: HostCommandName, error: unknown): HostAnswer<never> {
  const report: HostErrorReport = isDhashError(error)
    ? { code: error.code, message: error.message, details: error.details }
    : { code: UNEXPECTED_ERROR_CODE, message: (error as Error)?.message ?? String(error), details: '' };
  const exitCode = isDhashError(error) ? error.exitCode : ExitCode.FAILED;
  return { format: HOST_ANSWER_FORMAT, command, ok: false, exitCode, error: report };
}

/**
 * The answer in `stdout`, or a reason it is not one: the last non-empty line must be the JSON document (anything
 * printed before it, e.g. a login banner, is ignored).
 */
export function parseHostAnswer<T>(
  stdout: string,
  command: HostCommandName,
): { answer: HostAnswer<T> } | { reason: string } {
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!last) return { reason: 'it printed nothing on stdout' };
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    return { reason: `its stdout is not JSON (${JSON.stringify(last.slice(0, 120))})` };
  }
  const answer = value as Partial<HostAnswer<T>> & { error?: unknown; result?: unknown };
  if (answer?.format !== HOST_ANSWER_FORMAT)
    return { reason: `expected an answer of format ${HOST_ANSWER_FORMAT}, got ${JSON.stringify(answer?.format)}` };
  if (answer.command !== command) return { reason: `it answered \`${String(answer.command)}\`, not \`${command}\`` };
  if (typeof answer.exitCode !== 'number' || (answer.result === undefined && answer.error === undefined))
    return { reason: 'the answer has no exitCode, result or error' };
  return { answer: answer as HostAnswer<T> };
}
