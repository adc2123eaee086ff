// The closing summary of quick-deploy: release, backup, each step's duration, and where the monitor and its logs are.
import { relative } from 'node:path';
import { formatDurationMs } from '../core/duration.js';
import type { QuickDeployContext } from './quick-deploy-pipeline.js';
import type { PipelineReport } from './types.js';

const MARK: Record<string, string> = { succeeded: '✔', skipped: '↷', failed: '✖', running: '…', pending: ' ' };

export function formatQuickDeploySummary(
  c: QuickDeployContext,
  report: PipelineReport,
  options: { reportFile?: string } = {},
): string {
  const rel = (p: string) => relative(c.projectRoot, p) || p;
  const outcome =
    report.status === 'succeeded'
      ? c.isDryRun
        ? 'DRY RUN OK (nothing changed)'
        : 'DEPLOYED'
      : `FAILED at ${report.failedStep}`;
  const backupText = c.backupFile
    ? rel(c.backupFile)
    : (report.records.find((r) => r.name === 'backup:create')?.detail ??
      report.records.find((r) => r.name === 'backup:create')?.summary ??
      'none');
  const lines = [
    '',
    `quick-deploy to ${c.environment.name}: ${outcome} in ${formatDurationMs(report.durationMs ?? 0)}`,
    `  release:  ${c.deploy?.releaseId ?? c.plan?.releaseId ?? '(not resolved)'}` +
      `${c.deploy?.previousReleaseId ? ` (previous ${c.deploy.previousReleaseId})` : ''}`,
    `  backup:   ${backupText}`,
    '  steps:',
    ...report.records.map(
      (r) =>
        `    ${MARK[r.status] ?? '?'} ${r.name.padEnd(20)} ${r.status.padEnd(9)} ` +
        `${r.durationMs === undefined ? '' : formatDurationMs(r.durationMs).padStart(7)}` +
        `${r.detail ? `  ${r.detail}` : ''}`,
    ),
  ];
  if (c.deploy?.deployId) {
    lines.push(`  deploy:   ${c.deploy.deployId}${c.deploy.ok ? '' : ` — ${c.deploy.message}`}`);
    lines.push(
      `  monitor logs: ${rel(c.environment.paths.monitorLogsDir)}/${c.deploy.deployId}.jsonl ` +
        `(+ .summary.json; report: npx dhash report --deploy ${c.deploy.deployId})`,
    );
  }
  if (c.monitor) {
    lines.push(
      c.monitor.exitCode === undefined
        ? `  monitor:  running detached, pid ${c.monitor.pid}; its output: ${rel(c.monitor.logFile)}`
        : `  monitor:  exited ${c.monitor.exitCode}; its output: ${rel(c.monitor.logFile)}`,
    );
    if (c.monitor.exitCode === undefined) lines.push(`  follow it: ${c.monitor.followCommands.join('   or   ')}`);
  }
  if (options.reportFile) lines.push(`  report:   ${options.reportFile}`);
  if (c.incidentId) lines.push(`  incident: ${c.incidentId} (incidents/)`);
  return lines.join('\n') + '\n';
}
