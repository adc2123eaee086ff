// Structured JSON-lines logging for the toolkit: {time, level, component, msg, ...fields}, always redacted.
import type { Writable } from 'node:stream';
import type { Clock } from './clock.js';
import type { Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry `component` (e.g. "backup", "monitor"). */
  child(component: string): Logger;
}

/** The fields every JSON log line carries; test_logging checks them. */
export const REQUIRED_LOG_FIELDS = ['time', 'level', 'component', 'msg'] as const;

export interface JsonLoggerOptions {
  clock: Clock;
  redact: Redactor;
  component?: string;
  level?: LogLevel;
  /** Every destination receives every line (e.g. a log file and stderr). */
  streams: Writable[];
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const min = LEVEL_RANK[options.level ?? 'info'];
  const component = options.component ?? 'dhash';
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVEL_RANK[level] < min) return;
    const line = {
      time: new Date(options.clock.now()).toISOString(),
      level,
      component,
      msg: options.redact(msg),
      ...(fields ? options.redact.deep(serializeErrors(fields)) : {}),
    };
    const text = JSON.stringify(line) + '\n';
    for (const stream of options.streams) stream.write(text);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (name) => createJsonLogger({ ...options, component: `${component}.${name}` }),
  };
}

/** A logger that drops everything, for code paths that were not given one. */
export function createSilentLogger(): Logger {
  const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  return silent;
}

function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      value instanceof Error
        ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
        : value;
  }
  return out;
}
