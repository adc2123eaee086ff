// Why a PDF could not be turned into image hashes: a stable code and the HTTP status the service answers with.
import { ServiceInputError } from '../input-error.js';

export type PdfErrorCode = 'EBADPDF' | 'EPDFTIMEOUT' | 'ETOOMANYPIXELS' | 'EPDFUNAVAILABLE';

const HTTP_STATUS: Record<PdfErrorCode, number> = {
  EBADPDF: 422,
  EPDFTIMEOUT: 422,
  ETOOMANYPIXELS: 413,
  // Not the caller's fault: the host lacks poppler, so the service cannot do this at all.
  EPDFUNAVAILABLE: 503,
};

export class PdfInputError extends ServiceInputError<PdfErrorCode> {
  constructor(code: PdfErrorCode, message: string, cause?: unknown) {
    super(code, HTTP_STATUS[code], message, cause);
  }
}

export function isPdfInputError(error: unknown): error is PdfInputError {
  return error instanceof PdfInputError;
}
