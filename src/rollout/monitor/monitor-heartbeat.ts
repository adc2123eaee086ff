// The monitor's sign of life: heartbeatAt in its state and a node-exporter textfile (<root>/state/monitor.prom) for a
// dead-man's switch.
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { HEARTBEAT_EVERY_MS } from './monitor-health.js';
import { saveMonitorState, type MonitorStateFile } from './monitor-state.js';

export function getMonitorPromFile(environment: ResolvedEnvironment): string {
  return join(environment.stateDir, 'monitor.prom');
}

/** Label values in the text format escape backslash, quote and newline. */
function quoteLabel(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Pure: the textfile's content. `active` is 1 while the window is being watched, 0 once the monitor finished. */
export function renderMonitorProm(
  state: Pick<MonitorStateFile, 'env' | 'deployId' | 'windowStartMs' | 'windowMs' | 'outcome'>,
  heartbeatMs: number,
): string {
  const labels = `{env=${quoteLabel(state.env)},deploy_id=${quoteLabel(state.deployId)}}`;
  return [
    '# HELP dhash_monitor_last_poll_timestamp_seconds ' +
      "Unix time of the dhash monitor's last poll or heartbeat (it beats at least every 30 s).",
    '# TYPE dhash_monitor_last_poll_timestamp_seconds gauge',
    `dhash_monitor_last_poll_timestamp_seconds${labels} ${(heartbeatMs / 1000).toFixed(3)}`,
    "# HELP dhash_monitor_window_end_timestamp_seconds Unix time at which the watched deploy's monitor window ends.",
    '# TYPE dhash_monitor_window_end_timestamp_seconds gauge',
    `dhash_monitor_window_end_timestamp_seconds${labels} ${((state.windowStartMs + state.windowMs) / 1000).toFixed(3)}`,
    '# HELP dhash_monitor_active 1 while the monitor watches its window, 0 once it finished (any outcome).',
    '# TYPE dhash_monitor_active gauge',
    `dhash_monitor_active${labels} ${state.outcome ? 0 : 1}`,
    '',
  ].join('\n');
}

/**
 * Records a heartbeat: `heartbeatAt`, the gap to expect before the next one, and the pid, in the state (saved
 * atomically) and in monitor.prom (temp + rename, so the collector never reads half a file). Throws on write errors.
 */
export async function recordHeartbeat(
  environment: ResolvedEnvironment,
  state: MonitorStateFile,
  nowMs: number,
  nextGapMs = HEARTBEAT_EVERY_MS,
): Promise<void> {
  state.heartbeatAt = new Date(nowMs).toISOString();
  state.heartbeatIntervalMs = Math.max(0, Math.min(nextGapMs, HEARTBEAT_EVERY_MS));
  state.pid = process.pid;
  await saveMonitorState(environment, state);
  await writeFileAtomic(getMonitorPromFile(environment), renderMonitorProm(state, nowMs));
}
