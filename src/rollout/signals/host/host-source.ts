// The `host` signal source: CPU, memory and disk of this host, and RSS/CPU of the service process from its pidfile.
import { readFile, statfs } from 'node:fs/promises';
import { totalmem, freemem } from 'node:os';
import type { Clock } from '../../../lib/clock.js';
import type { HostReading } from '../../core/signal-values.js';
import type { HostSource } from '../signal-source.js';

export const HOST_SOURCE_TYPE = 'host';
const PAGE_BYTES = 4096;
const TICKS_PER_SECOND = 100;
/**
 * A process CPU rate needs readings at least this far apart: its counter moves in 10 ms ticks, so one tick over a
 * 1 ms span read as 1000 %. Over 100 ms a tick is 10 points; the monitor polls seconds apart anyway.
 */
const MIN_PROCESS_RATE_SPAN_MS = 100;

/** Busy and total jiffies of all CPUs from /proc/stat's first line. */
export function parseProcStat(text: string): { busy: number; total: number } {
  const fields = text.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** utime+stime (ticks) and RSS (pages) of /proc/<pid>/stat; the command name may contain spaces, so split after ')'. */
export function parseProcPidStat(text: string): { cpuTicks: number; rssPages: number } {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime = field 14, stime = 15, rss = 24.
  return { cpuTicks: Number(rest[11]) + Number(rest[12]), rssPages: Number(rest[21]) };
}

export function createHostSource(options: { diskPath: string; pidFile: string; clock: Clock }): HostSource {
  let lastCpu: { busy: number; total: number } | undefined;
  let lastProc: { pid: number; cpuTicks: number; atMs: number } | undefined;
  // Two readings inside one kernel tick see identical counters: report the last known value rather than nothing.
  let lastCpuPercent: number | undefined;
  let lastProcessCpuPercent: number | undefined;
  return {
    type: HOST_SOURCE_TYPE,
    async measure() {
      const reading: HostReading = {};
      reading.memoryPercent = Math.round((1 - freemem() / totalmem()) * 1000) / 10;
      try {
        const now = parseProcStat(await readFile('/proc/stat', 'utf8'));
        // The first reading has no predecessor: usage since boot is the honest fallback.
        const before = lastCpu ?? { busy: 0, total: 0 };
        const dTotal = now.total - before.total;
        if (dTotal > 0) {
          lastCpuPercent = Math.round(((now.busy - before.busy) / dTotal) * 1000) / 10;
          lastCpu = now;
        }
        reading.cpuPercent = lastCpuPercent;
      } catch {}
      try {
        const fs = await statfs(options.diskPath);
        reading.diskPercent = Math.round((1 - fs.bavail / fs.blocks) * 1000) / 10;
      } catch {}
      try {
        const pid = Number((await readFile(options.pidFile, 'utf8')).trim());
        const proc = parseProcPidStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
        reading.processRssBytes = proc.rssPages * PAGE_BYTES;
        const atMs = options.clock.now();
        if (lastProc?.pid !== pid) lastProcessCpuPercent = undefined;
        const isRateSpan = lastProc !== undefined && atMs - lastProc.atMs >= MIN_PROCESS_RATE_SPAN_MS;
        if (lastProc && lastProc.pid === pid && isRateSpan) {
          lastProcessCpuPercent =
            Math.round(
              ((proc.cpuTicks - lastProc.cpuTicks) / TICKS_PER_SECOND / ((atMs - lastProc.atMs) / 1000)) * 1000,
            ) / 10;
        }
        if (lastProc?.pid !== pid || isRateSpan) lastProc = { pid, cpuTicks: proc.cpuTicks, atMs };
        reading.processCpuPercent = lastProcessCpuPercent;
      } catch {}
      return reading;
    },
  };
}
