// Generates realistic monitor_logs/ files (CONTRACTS.md format) for
// report and telemetry tests: a healthy run or a rolled-back one.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MonitorSummary, PollGate, PollRecord } from '../../src/rollout/report/monitor-log-types.js';

export interface MonitorFixtureOptions {
  env?: string;
  startMs?: number;
  releaseId?: string;
  /**
   * 'rolled-back': extraction failures climb, a warning, then the
   * gate is violated at poll 12 (the last) and a rollback follows.
   */
  outcome: 'all-clear' | 'rolled-back';
  polls?: number;
  pollEveryMs?: number;
}

export function getDeployIdFor(envName: string, ms: number): string {
  return `${envName}-${new Date(ms).toISOString().replace(/[-:.]/g, '')}`;
}

/** Builds the records in memory (exact values are a function of the poll index, so tests can assert them). */
export function createMonitorFixture(options: MonitorFixtureOptions): {
  deployId: string;
  polls: PollRecord[];
  summary: MonitorSummary;
} {
  const envName = options.env ?? 'local';
  const startMs = options.startMs ?? Date.UTC(2026, 10, 28, 1, 30, 0);
  const every = options.pollEveryMs ?? 2000;
  const releaseId = options.releaseId ?? '20261128T012900000Z-0.1.0-abc1234';
  const deployId = getDeployIdFor(envName, startMs);
  const isBad = options.outcome === 'rolled-back';
  const count = options.polls ?? (isBad ? 13 : 30);
  const polls: PollRecord[] = [];
  let attempts = 0;
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const atMs = startMs + (i + 1) * every;
    attempts += 10;
    failures += isBad && i >= 6 ? (i >= 12 ? 4 : 1) : 0;
    const rate = attempts >= 20 ? Math.round((failures / attempts) * 10000) / 100 : null;
    const p95 = 40 + (i % 5) * 7;
    const queue = 3 + i;
    const cpu = 20 + (i % 4) * 5;
    const verdictOf = (value: number | null, threshold: number, warnAt = 0.8): PollGate['verdict'] =>
      value === null
        ? 'insufficient-data'
        : value > threshold
          ? 'violated'
          : value > threshold * warnAt
            ? 'warning'
            : 'pass';
    const gates: PollGate[] = [
      { name: 'health', value: 0, threshold: 2, unit: 'consecutive failures', verdict: 'pass', action: 'rollback' },
      {
        name: 'extractionFailureRate',
        value: rate,
        threshold: 5,
        unit: '%',
        windowMs: 600_000,
        verdict: verdictOf(rate, 5),
        action: 'rollback',
        ...(rate === null ? { detail: 'fewer than 20 extractions' } : {}),
      },
      {
        name: 'p95HashTime',
        value: attempts >= 20 ? p95 : null,
        threshold: 2000,
        unit: 'ms',
        windowMs: 900_000,
        verdict: verdictOf(attempts >= 20 ? p95 : null, 2000),
        action: 'rollback',
      },
      { name: 'lowConfidenceQueue', value: queue, threshold: 1000, unit: 'items', verdict: 'pass', action: 'rollback' },
      { name: 'cpu', value: cpu, threshold: 90, unit: '%', windowMs: 300_000, verdict: 'pass', action: 'alert' },
    ];
    const worst = gates.some((g) => g.verdict === 'violated')
      ? 'violated'
      : gates.some((g) => g.verdict === 'warning')
        ? 'warning'
        : 'ok';
    polls.push({
      time: new Date(atMs).toISOString(),
      deployId,
      env: envName,
      releaseId,
      pollIndex: i,
      elapsedMs: atMs - startMs,
      signals: {
        health: { ok: true, httpStatus: 200, latencyMs: 3 + (i % 3) },
        extraction: { attempts, failures },
        hashP95Ms: p95,
        queueLength: queue,
        cpuPercent: cpu,
        memoryPercent: 41,
        diskPercent: 55,
      },
      gates,
      state: worst,
      ...(worst === 'violated' ? { actions: ['rollback'] } : {}),
    });
  }
  const last = polls[polls.length - 1];
  const lastMs = Date.parse(last.time);
  const gateSummary: MonitorSummary['gates'] = {};
  for (const g of last.gates) {
    const values = polls.map((p) => p.gates.find((x) => x.name === g.name)!);
    const numeric = values.map((v) => v.value).filter((v): v is number => v !== null);
    const worstValue = numeric.length ? Math.max(...numeric) : null;
    const counts: Record<string, number> = {};
    for (const v of values) counts[v.verdict] = (counts[v.verdict] ?? 0) + 1;
    gateSummary[g.name] = {
      threshold: g.threshold,
      unit: g.unit,
      worstValue,
      worstRatio: worstValue === null ? null : worstValue / g.threshold,
      verdictCounts: counts,
    };
  }
  const violated = last.gates.find((g) => g.verdict === 'violated');
  const summary: MonitorSummary = {
    deployId,
    env: envName,
    releaseId,
    startedAt: new Date(startMs).toISOString(),
    endedAt: new Date(isBad ? lastMs + 9000 : startMs + count * every).toISOString(),
    windowMs: 180_000,
    outcome: options.outcome,
    polls: count,
    gates: gateSummary,
    ...(isBad && violated
      ? {
          violation: { gate: violated.name, value: violated.value!, threshold: violated.threshold, at: last.time },
          rollback: {
            startedAt: new Date(lastMs + 200).toISOString(),
            finishedAt: new Date(lastMs + 8800).toISOString(),
            ok: true,
            backupFile: `backups/dhash_20261128T012859000Z_${envName}.zip`,
            incidentId: `INC-${deployId}`,
            thirdOkHealthAt: new Date(lastMs + 7900).toISOString(),
          },
        }
      : {}),
  };
  return { deployId, polls, summary };
}

/** Writes the fixture into `<monitorLogsDir>/<deployId>.jsonl` and `.summary.json`; returns the deploy id. */
export async function writeMonitorFixture(
  monitorLogsDir: string,
  options: MonitorFixtureOptions,
): Promise<{ deployId: string; polls: PollRecord[]; summary: MonitorSummary }> {
  const fixture = createMonitorFixture(options);
  await mkdir(monitorLogsDir, { recursive: true });
  await writeFile(
    join(monitorLogsDir, `${fixture.deployId}.jsonl`),
    fixture.polls.map((p) => JSON.stringify(p)).join('\n') + '\n',
  );
  await writeFile(join(monitorLogsDir, `${fixture.deployId}.summary.json`), JSON.stringify(fixture.summary, null, 2));
  return fixture;
}
