// The human text of `dhash host <sub>` (with --text on stdout, otherwise on stderr beside the JSON).
import type { HostActivationReport, HostErrorReport, HostStatusReport, HostVerifyReport } from './host-report.js';

export function formatActivation(report: HostActivationReport): string[] {
  const lines = report.timeline
    .filter((e) => e.status !== 'started')
    .map((e) => `  ${e.status === 'failed' ? '✗' : '✓'} ${e.step}${e.detail ? `  ${e.detail}` : ''}`);
  return [`${report.action} ${report.releaseId} (${report.deployId}):`, ...lines, report.message];
}

export function formatStatus(report: HostStatusReport): string[] {
  const lock = report.lock
    ? `held: ${report.lock.purpose} by pid ${report.lock.pid} on ${report.lock.host} since ${report.lock.startedAt}` +
      (report.lock.isStale ? ' (stale: that process is gone)' : '')
    : 'free';
  const health = report.health
    ? `${report.health.url} ${report.health.ok ? 'OK' : 'NOT OK'} (${report.health.status ?? report.health.error})`
    : 'not probed';
  return [
    `Host ${report.hostname}, root ${report.root}`,
    `  current:  ${report.currentReleaseId ?? '(none: nothing activated)'}`,
    `  previous: ${report.previousReleaseId ?? '(none)'}`,
    `  releases: ${report.releaseIds.join(', ') || '(none staged)'}`,
    `  service:  ${report.service.driver}: ${report.service.detail}`,
    `  health:   ${health}`,
    `  lock:     ${lock}`,
    `  service.env: ${report.serviceEnv.isPresent ? `present, mode ${report.serviceEnv.mode}` : 'absent'}`,
    `  journal (last ${report.journal.length}):`,
    ...report.journal.map(
      (e) => `    ${e.time}  ${e.deployId}  ${e.step} ${e.status}${e.detail ? `  ${e.detail}` : ''}`,
    ),
  ];
}

export function formatVerify(report: HostVerifyReport): string[] {
  return [`releases/${report.releaseId}: content sha256 ${report.contentSha256.slice(0, 12)}… matches release.json`];
}

export function formatHostError(error: HostErrorReport): string[] {
  return [`dhash: ${error.message}`, ...(error.details ? [error.details] : [])];
}
