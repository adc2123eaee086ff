// Renders monitor_logs/<deployId>.html: a self-contained page (inline CSS and SVG, no scripts, no network).
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { getProjectPaths } from '../../lib/project-paths.js';
import { formatDurationMs } from '../core/duration.js';
import { escapeHtml } from './escape-html.js';
import { readMonitorLog, type MonitorLog } from './monitor-log-files.js';
import { formatValue, renderChartSvg, type ChartMarker } from './svg-chart.js';
import { REPORT_CSS } from './report-css.js';

/** Reads the deploy's monitor logs and writes `<monitor_logs>/<deployId>.html` atomically; returns its path. */
export async function renderMonitorReport(projectRoot: string, deployId: string): Promise<string> {
  const dir = getProjectPaths(projectRoot).monitorLogsDir;
  const log = await readMonitorLog(dir, deployId);
  const file = join(dir, `${deployId}.html`);
  await writeFileAtomic(file, renderMonitorReportHtml(log));
  return file;
}

/** Pure: the page for one monitored deploy. */
export function renderMonitorReportHtml(log: MonitorLog): string {
  const { polls, summary } = log;
  const first = polls[0];
  const startMs = summary ? Date.parse(summary.startedAt) : first ? Date.parse(first.time) - first.elapsedMs : 0;
  const lastPollMs = polls.length ? Date.parse(polls[polls.length - 1].time) : startMs;
  const endMs = Math.max(
    lastPollMs,
    summary ? Date.parse(summary.endedAt) : lastPollMs,
    summary?.rollback?.finishedAt ? Date.parse(summary.rollback.finishedAt) : 0,
  );
  const outcome = summary?.outcome ?? 'in-progress';
  const envName = summary?.env ?? first?.env ?? '?';
  const releaseId = summary?.releaseId ?? first?.releaseId ?? '?';
  const pollTimesMs = polls.map((p) => Date.parse(p.time));

  const common: ChartMarker[] = [];
  if (summary?.violation) {
    common.push({
      atMs: Date.parse(summary.violation.at),
      kind: 'violation',
      label: `violation: ${summary.violation.gate}`,
    });
  }
  if (summary?.rollback) {
    const r = summary.rollback;
    const rollbackEnd = r.finishedAt ? Date.parse(r.finishedAt) : endMs;
    common.push({
      atMs: Date.parse(r.startedAt),
      untilMs: rollbackEnd,
      kind: 'rollback',
      label: `rollback ${r.ok ? 'succeeded' : 'FAILED'}`,
    });
    if (r.thirdOkHealthAt)
      common.push({ atMs: Date.parse(r.thirdOkHealthAt), kind: 'recovered', label: '3rd OK health' });
  }

  const gateNames = [...new Set(polls.flatMap((p) => p.gates.map((g) => g.name)))];
  const charts = gateNames.map((name) => {
    const samples = polls.map((p) => ({ poll: p, gate: p.gates.find((g) => g.name === name) })).filter((s) => s.gate);
    const lastGate = samples[samples.length - 1].gate!;
    const warnings: ChartMarker[] = [];
    samples.forEach((s, i) => {
      if (s.gate!.verdict === 'warning' && samples[i - 1]?.gate?.verdict !== 'warning') {
        warnings.push({ atMs: Date.parse(s.poll.time), kind: 'warning', label: 'warning' });
      }
    });
    const window = lastGate.windowMs ? ` over ${formatDurationMs(lastGate.windowMs)}` : '';
    const svg = renderChartSvg({
      id: name,
      title: `${name}${window} — action: ${lastGate.action}`,
      unit: lastGate.unit,
      threshold: summary?.gates[name]?.threshold ?? lastGate.threshold,
      fromMs: startMs,
      toMs: endMs,
      points: samples.map((s) => ({ atMs: Date.parse(s.poll.time), value: s.gate!.value, verdict: s.gate!.verdict })),
      pollTimesMs,
      markers: [...warnings, ...common],
    });
    return `<section class="gate"><div class="chart-box">${svg}</div>${renderGateFacts(name, log)}</section>`;
  });

  const title = `dhash monitor — ${envName} — ${releaseId} — ${outcome}`;
  const startedAt = summary?.startedAt ?? (first ? new Date(startMs).toISOString() : '—');
  const windowText = summary
    ? `${formatDurationMs(summary.windowMs)} planned, ${formatDurationMs(endMs - startMs)} observed`
    : '—';
  const supersededFact =
    summary?.outcome === 'superseded'
      ? fact(
          'Superseded',
          `by ${summary.supersededBy ?? 'another deploy'}` +
            `${summary.supersedeReason ? `: ${summary.supersedeReason}` : ''}; this monitor stopped without acting`,
        )
      : '';
  const violationFact = summary?.violation
    ? fact(
        'Violation',
        `${summary.violation.gate}: ${formatValue(summary.violation.value)} ` +
          `against threshold ${formatValue(summary.violation.threshold)} at ${summary.violation.at}`,
      )
    : '';
  const rollback = summary?.rollback;
  const rollbackFact = rollback
    ? fact(
        'Rollback',
        `${rollback.ok ? 'succeeded' : 'FAILED — a human must act'}; started ${rollback.startedAt}` +
          `${rollback.finishedAt ? `, finished ${rollback.finishedAt}` : ''}` +
          `${rollback.backupFile ? `; backup ${rollback.backupFile}` : ''}` +
          `${rollback.incidentId ? `; incident ${rollback.incidentId}` : ''}`,
      )
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}</style></head>
<body>
<header class="outcome-${escapeHtml(outcome)}">
<h1>Monitor report <span class="badge">${escapeHtml(outcome)}</span></h1>
<dl>
${fact('Deploy', log.deployId)}${fact('Environment', envName)}${fact('Release', releaseId)}
${fact('Started', startedAt)}${fact('Ended', summary?.endedAt ?? 'still running')}
${fact('Window', windowText)}${fact('Polls', String(polls.length))}
${supersededFact}
${violationFact}
${rollbackFact}
</dl>
<p class="legend">${LEGEND_HTML}</p>
</header>
<main>
${renderHealthStrip(log, startMs, endMs)}
${charts.join('\n') || '<p class="empty">No polls were recorded.</p>'}
${renderEvents(log)}
</main>
</body></html>
`;
}

/** The key to the charts' colours and lines, under the header's facts. */
const LEGEND_HTML =
  '<span class="key pass"></span>pass <span class="key warn"></span>warning ' +
  '<span class="key bad"></span>violated <span class="key nodata"></span>no data · ' +
  'dashed red: threshold · ticks: poll times · red line: violation · shaded: rollback · ' +
  'green line: 3rd OK health check';

function fact(name: string, value: string): string {
  return `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`;
}

function renderGateFacts(name: string, log: MonitorLog): string {
  const s = log.summary?.gates[name];
  if (!s) return '';
  const counts = Object.entries(s.verdictCounts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const worst = s.worstValue === null ? '—' : `${formatValue(s.worstValue)} ${escapeHtml(s.unit)}`;
  const ratio = s.worstRatio === null ? '—' : `${Math.round(s.worstRatio * 100)}% of threshold`;
  return `<p class="gate-facts">worst ${worst} · ${ratio} · ${escapeHtml(counts)}</p>`;
}

/** One square per poll: green health OK, red not OK; hover for status and latency. */
function renderHealthStrip(log: MonitorLog, startMs: number, endMs: number): string {
  const span = Math.max(1, endMs - startMs);
  const cells = log.polls.map((p) => {
    const x = 56 + ((Date.parse(p.time) - startMs) / span) * (760 - 72);
    const h = p.signals.health;
    const tip =
      `${p.time}: ${h.ok ? 'OK' : 'NOT OK'}${h.httpStatus ? ` HTTP ${h.httpStatus}` : ''}, ` +
      `${h.latencyMs} ms${h.error ? `, ${h.error}` : ''}`;
    return (
      `<rect class="health ${h.ok ? 'pass' : 'bad'}" x="${(x - 3).toFixed(1)}" y="18" width="6" height="14">` +
      `<title>${escapeHtml(tip)}</title></rect>`
    );
  });
  return (
    '<section class="gate">' +
    '<svg class="strip" id="health-strip" viewBox="0 0 760 40" width="760" height="40" ' +
    'xmlns="http://www.w3.org/2000/svg">' +
    '<text class="chart-title" x="56" y="12">health check per poll</text>' +
    `${cells.join('')}</svg></section>`
  );
}

function renderEvents(log: MonitorLog): string {
  const rows: string[] = [];
  for (const p of log.polls) {
    for (const g of p.gates) {
      if (g.verdict !== 'warning' && g.verdict !== 'violated' && g.verdict !== 'error') continue;
      rows.push(
        `<tr class="${g.verdict}"><td>${escapeHtml(p.time)}</td><td>#${p.pollIndex}</td>` +
          `<td>${escapeHtml(g.name)}</td><td>${escapeHtml(g.verdict)}</td>` +
          `<td>${g.value === null ? '—' : escapeHtml(formatValue(g.value))} / ` +
          `${escapeHtml(formatValue(g.threshold))} ${escapeHtml(g.unit)}</td>` +
          `<td>${escapeHtml(g.detail ?? '')}</td></tr>`,
      );
    }
    for (const a of p.actions ?? [])
      rows.push(
        `<tr class="action"><td>${escapeHtml(p.time)}</td><td>#${p.pollIndex}</td>` +
          `<td colspan="4">${escapeHtml(a)}</td></tr>`,
      );
  }
  if (rows.length === 0)
    return '<section class="events"><h2>Events</h2><p class="empty">No warnings or violations.</p></section>';
  return (
    '<section class="events"><h2>Events</h2><table><thead>' +
    '<tr><th>time</th><th>poll</th><th>gate</th><th>verdict</th><th>value / threshold</th><th>detail</th></tr>' +
    `</thead><tbody>${rows.join('')}</tbody></table></section>`
  );
}
