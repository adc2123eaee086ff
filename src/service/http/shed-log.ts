// One log line per interval for the requests refused before fastify, instead of one line per refusal.
import type { RequestLogger } from './request-logger.js';

export interface ShedLog {
  /** Counts one refusal; the first one of an interval schedules that interval's line. */
  record(route: string, reason: string): void;
}

/**
 * A flood refuses hundreds of requests a second: a line each would cost the CPU the refusals were moved out of
 * fastify to save, and bury every other line. The counts per route and reason are in the line (and, exactly, in
 * dhash_requests_shed_total). The timer is unref'd: a pending line never holds a stopping service open.
 */
export function createShedLog(logger: RequestLogger, intervalMs = 1000): ShedLog {
  let counts: Record<string, Record<string, number>> = {};
  let total = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    logger.info({ shedCount: total, shed: counts, intervalMs }, 'hashing requests shed by admission control');
    counts = {};
    total = 0;
  };
  return {
    record(route, reason) {
      const byReason = (counts[route] ??= {});
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      total++;
      timer ??= setTimeout(flush, intervalMs).unref();
    },
  };
}
