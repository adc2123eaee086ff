// The base of every "the request carried something the service cannot use" error: a stable code and the HTTP status to answer.
export class ServiceInputError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly httpStatus: number;
  constructor(code: Code, httpStatus: number, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export function isServiceInputError(error: unknown): error is ServiceInputError {
  return error instanceof ServiceInputError;
}
