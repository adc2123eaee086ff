// One HTTP POST of a JSON body for the webhook channels: exact UTF-8 Content-Length, status classified for retries.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AttemptOutcome } from './types.js';

const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostJsonOptions {
  /** The environment variable the URL came from: error messages name it, never the URL. */
  variable: string;
  signal: AbortSignal;
  idempotencyKey: string;
  headers?: Record<string, string>;
}

/** Parses the URL or explains (without echoing it) why it is unusable. */
export function parseWebhookUrl(text: string, variable: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${variable} is not a valid URL (expected https://...)`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `${variable} must be an http(s) URL, got the scheme ${url.protocol}`;
  return url;
}

/**
 * Sends one POST. Never throws: 2xx → ok; 429, 408 and 5xx → retryable (with Retry-After when given);
 * other statuses → not retryable; network errors → retryable; an aborted signal → retryable "aborted".
 * Redirects are not followed (a webhook that redirects is misconfigured).
 */
export function postJson(urlText: string, body: unknown, options: PostJsonOptions): Promise<AttemptOutcome> {
  const url = parseWebhookUrl(urlText, options.variable);
  if (typeof url === 'string') return Promise.resolve({ ok: false, retryable: false, error: url });
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const req = request(
      url,
      {
        method: 'POST',
        signal: options.signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(bytes.length),
          'idempotency-key': options.idempotencyKey,
          'user-agent': 'dhash-notify/1',
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('error', (error) => finish({ ok: false, retryable: true, error: `response failed: ${error.message}` }));
        res.on('end', () =>
          finish(
            classifyResponse(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.headers['retry-after']),
          ),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      const aborted = options.signal.aborted || error.name === 'AbortError';
      finish({
        ok: false,
        retryable: true,
        error: aborted ? 'aborted' : `network error: ${error.code ?? error.message}`,
      });
    });
    req.end(bytes);
  });
}

export function classifyResponse(status: number, text: string, retryAfter?: string | string[]): AttemptOutcome {
  const snippet = text.trim().slice(0, 200);
  if (status >= 200 && status < 300) return { ok: true, httpStatus: status, ...(snippet ? { detail: snippet } : {}) };
  const retryable = status === 429 || status === 408 || status >= 500;
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  return {
    ok: false,
    retryable,
    httpStatus: status,
    error: `HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
    ...(retryable && header ? { retryAfter: header } : {}),
  };
}
