// Summarises monitor_logs/ per gate over a period, for threshold tuning: how close each gate came to firing.
import { formatDurationMs } from '../core/duration.js';
import { listMonitoredDeploys, readMonitorLog } from './monitor-log-files.js';
import { formatValue } from './svg-chart.js';

export interface GateTelemetry {
  gate: string;
  unit: string;
  /** The threshold of the most recent poll (thresholds may have been tuned during the period). */
  threshold: number;
  deploys: number;
  polls: number;
  /** Polls that produced a value. */
  measured: number;
  worstValue: number | null;
  /** worstValue / threshold: 1 means the gate was at its limit. */
  maxRatio: number | null;
  worstDeployId?: string;
  warnings: number;
  violations: number;
  insufficientData: number;
  errors: number;
}

export interface TelemetrySummary {
  fromMs: number;
  toMs: number;
  envName?: string;
  deploys: string[];
  polls: number;
  gates: GateTelemetry[];
}

export async function summarizeTelemetry(
  monitorLogsDir: string,
  options: { envName?: string; sinceMs: number; nowMs: number },
): Promise<TelemetrySummary> {
  const fromMs = options.nowMs - options.sinceMs;
  const byGate = new Map<string, GateTelemetry & { deploySet: Set<string>; lastPollMs: number }>();
  const deploys: string[] = [];
  let polls = 0;
  for (const deployId of await listMonitoredDeploys(monitorLogsDir, options.envName)) {
    const log = await readMonitorLog(monitorLogsDir, deployId);
    const inPeriod = log.polls.filter((p) => {
      const t = Date.parse(p.time);
      return t >= fromMs && t <= options.nowMs;
    });
    if (inPeriod.length === 0) continue;
    deploys.push(deployId);
    polls += inPeriod.length;
    for (const poll of inPeriod) {
      const t = Date.parse(poll.time);
      for (const g of poll.gates) {
        let s = byGate.get(g.name);
        if (!s) {
          s = {
            gate: g.name,
            unit: g.unit,
            threshold: g.threshold,
            deploys: 0,
            polls: 0,
            measured: 0,
            worstValue: null,
            maxRatio: null,
            warnings: 0,
            violations: 0,
            insufficientData: 0,
            errors: 0,
            deploySet: new Set(),
            lastPollMs: t,
          };
          byGate.set(g.name, s);
        }
        s.deploySet.add(deployId);
        s.polls += 1;
        if (t >= s.lastPollMs) {
          s.lastPollMs = t;
          s.threshold = g.threshold;
          s.unit = g.unit;
        }
        if (g.verdict === 'warning') s.warnings += 1;
        if (g.verdict === 'violated') s.violations += 1;
        if (g.verdict === 'insufficient-data') s.insufficientData += 1;
        if (g.verdict === 'error') s.errors += 1;
        if (g.value === null || !Number.isFinite(g.value)) continue;
        s.measured += 1;
        const ratio = g.threshold > 0 ? g.value / g.threshold : null;
        if (ratio !== null && (s.maxRatio === null || ratio > s.maxRatio)) {
          s.maxRatio = ratio;
          s.worstValue = g.value;
          s.worstDeployId = deployId;
        } else if (ratio === null && (s.worstValue === null || g.value > s.worstValue)) {
          s.worstValue = g.value;
          s.worstDeployId = deployId;
        }
      }
    }
  }
  const gates = [...byGate.values()].map(({ deploySet, lastPollMs: _last, ...rest }) => ({
    ...rest,
    deploys: deploySet.size,
  }));
  gates.sort((a, b) => (b.maxRatio ?? -1) - (a.maxRatio ?? -1) || a.gate.localeCompare(b.gate));
  return { fromMs, toMs: options.nowMs, envName: options.envName, deploys, polls, gates };
}

/** A table, closest-to-firing gate first, with a one-line reading of what it means. */
export function formatTelemetrySummary(summary: TelemetrySummary): string {
  const head =
    `Telemetry ${summary.envName ? `for --env ${summary.envName} ` : ''}` +
    `from ${new Date(summary.fromMs).toISOString()} to ${new Date(summary.toMs).toISOString()} ` +
    `(${formatDurationMs(summary.toMs - summary.fromMs)}): ` +
    `${summary.deploys.length} monitored deploy${summary.deploys.length === 1 ? '' : 's'}, ${summary.polls} polls.`;
  if (summary.gates.length === 0)
    return `${head}\nNo polls in this period: widen it with --since (e.g. --since 72h).\n`;
  const rows = [
    [
      'gate',
      'threshold',
      'worst',
      'max ratio',
      'polls',
      'measured',
      'warnings',
      'violations',
      'no data',
      'errors',
      'worst deploy',
    ],
  ];
  for (const g of summary.gates) {
    rows.push([
      g.gate,
      `${formatValue(g.threshold)} ${g.unit}`,
      g.worstValue === null ? '—' : formatValue(g.worstValue),
      g.maxRatio === null ? '—' : `${Math.round(g.maxRatio * 100)}%`,
      String(g.polls),
      String(g.measured),
      String(g.warnings),
      String(g.violations),
      String(g.insufficientData),
      String(g.errors),
      g.worstDeployId ?? '—',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  return (
    `${head}\n${table}\n` +
    'max ratio = worst value / threshold: above 100% the gate fired; ' +
    'a gate that never passes ~50% may be too loose, one that warns on healthy deploys too tight.\n'
  );
}
