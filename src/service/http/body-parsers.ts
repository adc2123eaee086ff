// Raw-body parsing for image and PDF uploads, and the per-route check of what a body may be.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';

const IMAGE_TYPE = /^image\/[\w.+-]+$/i;

/**
 * Image and PDF bodies arrive as Buffers (up to the server's bodyLimit); JSON keeps fastify's parser.
 * text/plain's default parser is removed so a mislabelled upload gets 415, not a string.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  const asBuffer = (_request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: Buffer) => void) =>
    done(null, body);
  for (const type of ['application/octet-stream', 'application/pdf', IMAGE_TYPE]) {
    app.addContentTypeParser(type, { parseAs: 'buffer' }, asBuffer);
  }
}

/** The bare media type (`image/png; charset=x` → `image/png`), lower-cased; '' when absent. */
export function getMediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function isJsonRequest(request: FastifyRequest): boolean {
  return getMediaType(request) === 'application/json';
}

/** The raw bytes of an upload the route accepts as `accepted`; 415 for other media types, 400 for an empty body. */
export function readUpload(request: FastifyRequest, accepted: 'image' | 'pdf'): Buffer {
  const type = getMediaType(request);
  const isOctet = type === 'application/octet-stream';
  const isAccepted = isOctet || (accepted === 'image' ? IMAGE_TYPE.test(type) : type === 'application/pdf');
  if (!isAccepted) {
    const expected =
      accepted === 'image' ? 'image/* or application/octet-stream' : 'application/pdf or application/octet-stream';
    throw new ApiError(
      415,
      'EUNSUPPORTEDMEDIATYPE',
      `Expected a body of type ${expected}, got ${type ? `\`${type}\`` : 'no Content-Type'}.`,
    );
  }
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new ApiError(
      400,
      'EEMPTYBODY',
      `The request body is empty; send the ${accepted === 'image' ? 'image' : 'PDF'} bytes.`,
    );
  }
  return body;
}
