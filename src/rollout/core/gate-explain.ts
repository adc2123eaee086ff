// Explains the resolved gates: threshold, window, action and the worst-case time to detect under the poll cadence
// (pure).
import type { ResolvedQualityGates } from '../config/quality-gates.js';
import { formatDurationMs } from './duration.js';

export interface GateExplanation {
  name: string;
  threshold: string;
  window: string;
  action: string;
  /** Worst case from the condition becoming true to the poll that detects it, per cadence phase. */
  worstCaseDetect: string;
}

/** A phase's span: "first 5m" for the opening phase, "5m–15m" for a later one. */
function formatPhaseSpan(startMs: number, forMs: number): string {
  return startMs > 0
    ? `${formatDurationMs(startMs)}–${formatDurationMs(startMs + forMs)}`
    : `first ${formatDurationMs(forMs)}`;
}

/** The poll phases as "every X for Y" spans, e.g. [{label: '30s polls (first 5m)', everyMs}]. */
function getPhases(q: ResolvedQualityGates): { label: string; everyMs: number }[] {
  let startMs = 0;
  return q.monitor.poll.map((p) => {
    const label =
      p.forMs === undefined
        ? `${formatDurationMs(p.everyMs)} polls${startMs > 0 ? ` (after ${formatDurationMs(startMs)})` : ''}`
        : `${formatDurationMs(p.everyMs)} polls (${formatPhaseSpan(startMs, p.forMs)})`;
    startMs += p.forMs ?? 0;
    return { label, everyMs: p.everyMs };
  });
}

export function explainGates(q: ResolvedQualityGates): GateExplanation[] {
  const phases = getPhases(q);
  const perPhase = (polls: number) =>
    phases.map((p) => `${formatDurationMs(polls * p.everyMs)} with ${p.label}`).join('; ');
  const g = q.gates;
  const w = (ms: number) => formatDurationMs(ms);
  return [
    {
      name: 'health',
      threshold:
        `> ${g.health.maxConsecutiveFailures} consecutive non-OK checks ` +
        '(a poll with unreadable metrics counts as non-OK)',
      window: '-',
      action: g.health.action,
      worstCaseDetect: perPhase(g.health.maxConsecutiveFailures + 1),
    },
    {
      name: 'extractionFailureRate',
      threshold:
        `> ${g.extractionFailureRate.maxPercent}% of attempts failed ` +
        `(needs ≥ ${g.extractionFailureRate.minEvents} attempts)`,
      window: w(g.extractionFailureRate.windowMs),
      action: g.extractionFailureRate.action,
      worstCaseDetect: `${perPhase(1)} after the ${w(g.extractionFailureRate.windowMs)} rate crosses the limit`,
    },
    {
      name: 'p95HashTime',
      threshold: `> ${g.p95HashTime.maxMs} ms p95 (needs ≥ ${g.p95HashTime.minEvents} hashes)`,
      window: w(g.p95HashTime.windowMs),
      action: g.p95HashTime.action,
      worstCaseDetect: `${perPhase(1)} after the ${w(g.p95HashTime.windowMs)} p95 crosses the limit`,
    },
    {
      name: 'lowConfidenceQueue',
      threshold: `> ${g.lowConfidenceQueue.maxItems} items (latest value)`,
      window: '-',
      action: g.lowConfidenceQueue.action,
      worstCaseDetect: perPhase(1),
    },
    {
      name: 'cpu',
      threshold: `> ${g.cpu.maxPercent}% (average)`,
      window: w(g.cpu.windowMs),
      action: g.cpu.action,
      worstCaseDetect: `${perPhase(1)} after the ${w(g.cpu.windowMs)} average crosses the limit`,
    },
    {
      name: 'memory',
      threshold: `> ${g.memory.maxPercent}% (latest value)`,
      window: '-',
      action: g.memory.action,
      worstCaseDetect: perPhase(1),
    },
    {
      name: 'disk',
      threshold: `> ${g.disk.maxPercent}% (latest value)`,
      window: '-',
      action: g.disk.action,
      worstCaseDetect: perPhase(1),
    },
  ];
}
