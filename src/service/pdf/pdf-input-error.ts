// Why a PDF could not be turned into image hashes: a stable code and the HTTP status the service answers with.
export type PdfErrorCode = 'EBADPDF' | 'EPDFTIMEOUT' | 'ETOOMANYPIXELS' | 'EPDFUNAVAILABLE';

const HTTP_STATUS: Record<PdfErrorCode, number> = {
  EBADPDF: 422,
  EPDFTIMEOUT: 422,
  ETOOMANYPIXELS: 413,
  // Not the caller's fault: the host lacks poppler, so the service cannot do this at all.
  EPDFUNAVAILABLE: 503,
};

export class PdfInputError extends Error {
  readonly code: PdfErrorCode;
  readonly httpStatus: number;
  constructor(code: PdfErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PdfInputError';
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
  }
}

export function isPdfInputError(error: unknown): error is PdfInputError {
  return error instanceof PdfInputError;
}
