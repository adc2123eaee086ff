// The one error type for images the hasher cannot take: a stable code and the HTTP status the API answers with.
import { ServiceInputError } from '../input-error.js';

export type ImageInputErrorCode = 'EEMPTYBODY' | 'EBADIMAGE' | 'ETRUNCATED' | 'ETOOMANYPIXELS' | 'EUNSUPPORTEDFORMAT';

/**
 * 400 for an empty body, 413 for a decompression bomb,
 * 415 for a format we do not hash, 422 for bytes that do not decode.
 */
const HTTP_STATUS_BY_CODE: Record<ImageInputErrorCode, number> = {
  EEMPTYBODY: 400,
  EBADIMAGE: 422,
  ETRUNCATED: 422,
  ETOOMANYPIXELS: 413,
  EUNSUPPORTEDFORMAT: 415,
};

export class ImageInputError extends ServiceInputError<ImageInputErrorCode> {
  constructor(code: ImageInputErrorCode, message: string, cause?: unknown) {
    super(code, HTTP_STATUS_BY_CODE[code], message, cause);
  }
}

export function isImageInputError(error: unknown, code?: ImageInputErrorCode): error is ImageInputError {
  return error instanceof ImageInputError && (code === undefined || error.code === code);
}
