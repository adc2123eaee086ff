// The JSON-lines logger of a rollout command:
// into `<root>/logs/<name>.log`, opened on the first line (a refusal writes nothing).
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import type { CliContext } from './context.js';
import { createJsonLogger, createSilentLogger, type Logger } from '../lib/logger.js';
import { createRedactor } from '../lib/redact.js';

export interface CommandLogger {
  logger: Logger;
  /** Flushes and closes the log file; idempotent. */
  close(): Promise<void>;
}

export function createCommandLogger(ctx: CliContext, options: { file?: string; component: string }): CommandLogger {
  const file = options.file;
  if (!file) return { logger: createSilentLogger(), close: async () => {} };
  let stream: WriteStream | undefined;
  const lazy = new Writable({
    write(chunk, _encoding, callback) {
      if (!stream) {
        mkdirSync(dirname(file), { recursive: true });
        stream = createWriteStream(file, { flags: 'a' });
      }
      stream.write(chunk, callback);
    },
  });
  const logger = createJsonLogger({
    clock: ctx.clock,
    redact: createRedactor(ctx.processEnv),
    streams: [lazy],
    component: options.component,
  });
  let closed: Promise<void> | undefined;
  return {
    logger,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        lazy.end(() => (stream ? stream.end(resolve) : resolve()));
      })),
  };
}
