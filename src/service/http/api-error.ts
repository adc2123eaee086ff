// The service's HTTP error answer: every failure becomes {"error": {"code", "message"}} with a 4xx/5xx status.
import { ServiceInputError } from '../input-error.js';
import { isDhashError } from '../../lib/errors.js';

/** A request the routes refuse (bad query, wrong media type): one of the service's input errors, status given here. */
export class ApiError extends ServiceInputError {
  constructor(statusCode: number, code: string, message: string) {
    super(code, statusCode, message);
  }
}

export interface ErrorAnswer {
  statusCode: number;
  body: { error: { code: string; message: string } };
  /** True when the fault is ours (5xx): the log line carries the stack, the body does not. */
  isServerFault: boolean;
}

/** Fastify's own request errors, renamed into the API's codes so clients see one vocabulary. */
const FASTIFY_CODES: Record<string, { statusCode: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, code: 'EBODYTOOLARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { statusCode: 415, code: 'EUNSUPPORTEDMEDIATYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, code: 'EBADREQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    statusCode: 400,
    code: 'EEMPTYBODY',
    message: 'The request body is empty; send a JSON object.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, code: 'EBADJSON' },
  FST_ERR_VALIDATION: { statusCode: 400, code: 'EBADREQUEST' },
};

export function toErrorAnswer(error: unknown): ErrorAnswer {
  // One error type reaches the HTTP layer: every coded error declares its status where it is defined.
  if (isDhashError(error)) return answer(error.httpStatus, error.code, error.message);
  const fastifyError = error as { code?: string; statusCode?: number; message?: string; name?: string };
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return answer(known.statusCode, known.code, known.message ?? String(fastifyError.message));
  // The JSON parser throws a plain SyntaxError tagged 400 for malformed bodies.
  if (fastifyError.name === 'SyntaxError' && fastifyError.statusCode === 400) {
    return answer(400, 'EBADJSON', `The request body is not valid JSON: ${fastifyError.message}`);
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return answer(status, 'EBADREQUEST', String(fastifyError.message));
  }
  return answer(500, 'EINTERNAL', 'The service failed to handle the request; the error is in its log.');
}

function answer(statusCode: number, code: string, message: string): ErrorAnswer {
  return { statusCode, body: { error: { code, message } }, isServerFault: statusCode >= 500 };
}
