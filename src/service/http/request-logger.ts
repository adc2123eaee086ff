// The service's pino logger: JSON lines with ISO time and level names, never bodies, never credentials.
import { pino, type Logger as PinoLogger } from 'pino';
import type { Writable } from 'node:stream';
import type { Redactor } from '../../lib/redact.js';

export type RequestLogger = PinoLogger;

export interface CreateRequestLoggerOptions {
  stream: Writable;
  redact: Redactor;
  level?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

/** Same field names as the toolkit's JSON logger (time, level, component, msg), so one reader parses both. */
export function createRequestLogger(options: CreateRequestLoggerOptions): RequestLogger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: {
        level: (label) => ({ level: label }),
        // Secrets from the environment (webhook URLs, tokens) are scrubbed from every field, e.g. a URL's query.
        log: (fields) => scrubFields(fields, options.redact),
      },
      // Belt and braces: request lines carry no headers, but a stray serialized request must not leak these.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
        censor: '[REDACTED]',
      },
      hooks: {
        // ...and from every message.
        logMethod(args, method) {
          if (typeof args[0] === 'string') args[0] = options.redact(args[0]);
          else if (typeof args[1] === 'string') args[1] = options.redact(args[1]);
          method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    options.stream,
  );
}

/** redact.deep would flatten an Error to `{}` (its fields are not enumerable), so errors are serialized first. */
function scrubFields(fields: Record<string, unknown>, redact: Redactor): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      value instanceof Error
        ? {
            type: value.name,
            message: redact(value.message),
            stack: redact(value.stack ?? ''),
            code: (value as { code?: unknown }).code,
          }
        : redact.deep(value);
  }
  return out;
}
