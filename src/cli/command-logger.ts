// The JSON-lines logger of a rollout command: into `<root>/logs/<name>.log` (never under --dry-run, which changes nothing).
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { CliContext } from './context.js';
import { createJsonLogger, createSilentLogger, type Logger } from '../lib/logger.js';
import { createRedactor } from '../rollout/core/redact.js';

export interface CommandLogger {
  logger: Logger;
  /** Flushes and closes the log file; idempotent. */
  close(): Promise<void>;
}

export function createCommandLogger(ctx: CliContext, options: { file?: string; component: string }): CommandLogger {
  if (!options.file) return { logger: createSilentLogger(), close: async () => {} };
  mkdirSync(dirname(options.file), { recursive: true });
  const stream: WriteStream = createWriteStream(options.file, { flags: 'a' });
  const logger = createJsonLogger({ clock: ctx.clock, redact: createRedactor(ctx.env), streams: [stream], component: options.component });
  let closed: Promise<void> | undefined;
  return {
    logger,
    close: () => (closed ??= new Promise<void>((resolve) => stream.end(resolve))),
  };
}
