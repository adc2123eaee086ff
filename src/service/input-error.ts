// The base of every "the request carried something the service cannot use" error:
// a coded DhashError with its HTTP status.
import { DhashError } from '../lib/errors.js';
import { ExitCode } from '../lib/exit-codes.js';

export class ServiceInputError<Code extends string = string> extends DhashError {
  declare readonly code: Code;
  constructor(code: Code, httpStatus: number, message: string, cause?: unknown) {
    // The same error reaches the CLI (`dhash hash FILE`), where bad input is a usage error (exit 2).
    super(code, { message, details: '', exitCode: ExitCode.USAGE, httpStatus }, cause);
  }
}

export function isServiceInputError(error: unknown): error is ServiceInputError {
  return error instanceof ServiceInputError;
}
