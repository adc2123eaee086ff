// Renders an incident record as the readable incidents/<id>.md an operator attaches to the RCA.
import { isAbsolute, join, relative } from 'node:path';
import type { IncidentRecord } from './create-incident.js';

const cell = (value: unknown) =>
  String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');

function describeCheck(check: unknown): { ok: string; text: string } {
  if (check && typeof check === 'object') {
    const c = check as Record<string, unknown>;
    const ok = c.ok === true ? 'OK' : c.ok === false ? 'FAIL' : '?';
    const parts = ['time', 'httpStatus', 'latencyMs', 'detail', 'error']
      .filter((k) => c[k] !== undefined)
      .map((k) => `${k}: ${String(c[k])}`);
    return { ok, text: parts.join(', ') };
  }
  return { ok: '?', text: String(check) };
}

function renderRollback(rb: NonNullable<IncidentRecord['rollback']>): string[] {
  const lines = [
    '## Rollback',
    '',
    `- **Strategy:** ${rb.strategy} (${rb.strategyReason})`,
    `- **Outcome:** ${rb.outcome}`,
  ];
  if (rb.snapshotFile) lines.push(`- **Pre-rollback snapshot:** ${rb.snapshotFile}`);
  if (rb.carriedForward) {
    lines.push('', `Carried forward (${rb.carriedForward.length}):`);
    for (const c of rb.carriedForward) lines.push(`- #${c.seq} ${c.at} ${c.summary}`);
  }
  if (rb.notCarriedForward?.length) {
    lines.push('', `NOT carried forward (${rb.notCarriedForward.length}); they stay in the snapshot:`);
    for (const c of rb.notCarriedForward) lines.push(`- #${c.seq} ${c.at} ${c.summary}: ${c.reason}`);
    if (rb.recovery) lines.push('', rb.recovery);
  }
  return lines;
}

export function renderIncidentMarkdown(
  r: IncidentRecord,
  paths: { incidentsDir: string; projectRoot: string },
): string {
  const lines: string[] = [];
  const t = r.trigger;
  lines.push(`# ${r.id}: ${r.title ?? `${r.severity} incident on ${r.env}`}`, '');
  lines.push(`- **Environment:** ${r.env}`);
  lines.push(`- **Severity:** ${r.severity}`);
  lines.push(`- **Created:** ${r.createdAt}`);
  if (r.deployId) lines.push(`- **Deploy:** ${r.deployId}`);
  if (r.releaseId) lines.push(`- **Release:** ${r.releaseId}`);
  lines.push('', '## Trigger', '');
  if (t.gate) {
    lines.push('| Gate | Observed | Threshold | Window |', '| --- | --- | --- | --- |');
    lines.push(
      `| ${cell(t.gate)} | ${cell(t.observed ?? 'no data')} | ${cell(t.threshold)} | ${cell(t.window ?? '')} |`,
    );
  }
  if (t.description) lines.push(...(t.gate ? [''] : []), t.description);
  lines.push('', '## Timeline', '');
  if (r.timeline?.length) {
    lines.push('| Time (UTC) | Step | Status | Detail |', '| --- | --- | --- | --- |');
    for (const e of r.timeline)
      lines.push(`| ${cell(e.time)} | ${cell(e.step)} | ${cell(e.status)} | ${cell(e.detail)} |`);
  } else lines.push('No steps were recorded.');
  if (r.rollback) lines.push('', ...renderRollback(r.rollback));
  lines.push('', '## Backup', '');
  if (r.backup) {
    lines.push(`- **File:** ${r.backup.file}`);
    lines.push(`- **Verified:** ${r.backup.verified ? 'yes (sha256 and manifest match)' : 'NO'}`);
    for (const p of r.backup.problems ?? []) lines.push(`  - problem: ${p}`);
  } else lines.push('No backup was used.');
  lines.push('', '## Post-rollback verification', '');
  const checks = r.verification?.healthChecks ?? [];
  if (checks.length) {
    lines.push('| # | Health | Detail |', '| --- | --- | --- |');
    checks.forEach((c, i) => {
      const d = describeCheck(c);
      lines.push(`| ${i + 1} | ${d.ok} | ${cell(d.text)} |`);
    });
  } else lines.push('No health checks were recorded.');
  const smoke = r.verification?.smoke;
  if (smoke) {
    lines.push('', `Smoke tests: **${smoke.ok ? 'passed' : 'FAILED'}**`);
    for (const c of smoke.checks ?? []) {
      const detail = c.detail ? `: ${c.detail}` : '';
      const duration = c.durationMs !== undefined ? ` (${c.durationMs} ms)` : '';
      lines.push(`- ${c.ok ? 'OK' : 'FAIL'} ${c.name}${detail}${duration}`);
    }
  }
  lines.push('', '## Notifications', '');
  if (r.deliveries.length) {
    lines.push('| Event | Channel | Status | Attempts | Detail |', '| --- | --- | --- | --- | --- |');
    for (const d of r.deliveries)
      lines.push(
        `| ${cell(d.event ?? '')} | ${cell(d.channel)} | ${cell(d.status)} | ` +
          `${cell(d.attempts ?? '')} | ${cell(d.outboxFile ?? d.error ?? '')} |`,
      );
  } else lines.push('No notifications were recorded.');
  lines.push('', '## Monitor logs', '');
  if (r.monitorLogs?.length) {
    for (const log of r.monitorLogs) {
      const abs = isAbsolute(log) ? log : join(paths.projectRoot, log);
      lines.push(`- [${relative(paths.projectRoot, abs)}](${relative(paths.incidentsDir, abs)})`);
    }
  } else lines.push('None linked.');
  lines.push('');
  return lines.join('\n');
}
