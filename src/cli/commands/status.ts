// `dhash status --env E`: current release, deploy journal tail, monitor progress and the latest gate values.
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { formatDurationMs } from '../../rollout/core/duration.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { readJournal } from '../../rollout/state/journal.js';
import { describeLatestDeployStrategy } from '../../rollout/rollback/rollback-plan.js';
import { getMonitorHealth, type MonitorHealth } from '../../rollout/monitor/monitor-health.js';
import { readMonitorState } from '../../rollout/monitor/monitor-state.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { createLineWriter } from '../line-writer.js';
import { createSilentLogger } from '../../lib/logger.js';
import type { FleetHostConfig } from '../../rollout/config/environments-schema.js';

export const registerStatus: RegisterCommand = (program, ctx, run) => {
  program
    .command('status')
    .description('show the current release, the deploy journal tail, monitor progress and the latest gate values')
    .requiredOption('--env <name>', 'environment (see environments.json)')
    .option('--lines <n>', 'journal entries to show', '10')
    .action(
      run(async (opts: { env: string; lines: string }) => {
        const environment = await resolveEnvironment(findProjectRoot(ctx.cwd), opts.env, ctx.processEnv);
        const out = createLineWriter(ctx);
        const journal = await readJournal(environment);
        if (environment.config.target.type === 'ssh') {
          // A fleet: each host's release from the host over ssh, and the wave in progress (src/rollout/fleet).
          const { describeFleetStatus } = await import('../../rollout/fleet/fleet-status.js');
          const { createFleetHostOps } = await import('../../rollout/target/ssh/host-ops.js');
          const hostOptions = { clock: ctx.clock, logger: createSilentLogger(), processEnv: ctx.processEnv };
          const createHostOps = (host: FleetHostConfig) => createFleetHostOps(environment, host, hostOptions);
          for (const line of await describeFleetStatus({ environment, createHostOps, nowMs: ctx.clock.now() }))
            out(line);
        } else {
          const current = await readlink(environment.currentLink).then(
            (t) => basename(t),
            () => undefined,
          );
          out(`Environment ${environment.name} (${environment.root})`);
          out(`  current release: ${current ?? '(none: nothing deployed)'}`);
          out(`  rollback strategy: ${describeLatestDeployStrategy(journal)}`);
        }
        out(`\nDeploy journal (last ${Math.min(Number(opts.lines) || 10, journal.length)} of ${journal.length}):`);
        for (const e of journal.slice(-(Number(opts.lines) || 10))) {
          const releaseText = e.releaseId ? `  release=${e.releaseId}` : '';
          const detailText = e.detail ? `  ${e.detail}` : '';
          out(`  ${e.time}  ${e.deployId}  ${e.step} ${e.status}${releaseText}${detailText}`);
        }
        const state = await readMonitorState(environment);
        if (!state) {
          out('\nMonitor: never run for this environment.');
          return ExitCode.OK;
        }
        const nowMs = ctx.clock.now();
        const elapsedMs = Math.min(nowMs, state.windowStartMs + state.windowMs) - state.windowStartMs;
        out(`\nMonitor of ${state.deployId} (release ${state.releaseId})${state.isDryRun ? ' [dry run]' : ''}`);
        for (const line of formatMonitorHealth(await getMonitorHealth(environment, nowMs), state.supersededBy))
          out(`  ${line}`);
        out(
          `  window: ${new Date(state.windowStartMs).toISOString()} + ${formatDurationMs(state.windowMs)}; ` +
            `elapsed ${formatDurationMs(Math.max(0, elapsedMs))} ` +
            `(${Math.round((Math.max(0, elapsedMs) / state.windowMs) * 100)}%)`,
        );
        const lastPollText = state.lastPollAt ? `, last ${state.lastPollAt}` : '';
        const nextPollText = !state.outcome && state.nextPollAt ? `, next ${state.nextPollAt}` : '';
        out(`  polls: ${state.pollIndex}${lastPollText}${nextPollText}`);
        const endedAtText = state.endedAt ? ` at ${state.endedAt}` : '';
        const finishedText = state.outcome ? `; finished: ${state.outcome}${endedAtText}` : '';
        out(`  state: ${state.state}${finishedText}`);
        if (state.rollback) {
          const incidentText = state.rollback.incidentId ? `, incident ${state.rollback.incidentId}` : '';
          out(`  rollback: ${state.rollback.status} (started ${state.rollback.startedAt}${incidentText})`);
        }
        if (state.latestGates.length) {
          out('  latest gates:');
          for (const g of state.latestGates) {
            const valueText = String(g.value === null ? '-' : Math.round(g.value * 100) / 100).padStart(8);
            const detailText = g.detail ? `  (${g.detail})` : '';
            out(`    ${g.name.padEnd(22)} ${valueText} / ${g.threshold} ${g.unit}  ${g.verdict}${detailText}`);
          }
        }
        return ExitCode.OK;
      }),
    );
};

/** The monitor's watch line: what it watches against what serves, and whether it is still beating (issue 9). */
function formatMonitorHealth(health: MonitorHealth, supersededBy: string | undefined): string[] {
  const watches =
    `watches: deploy ${health.deployId}, release ${health.releaseId}; ` +
    `serving: ${health.servingReleaseId ?? '(nothing)'}`;
  if (health.status === 'finished') return [`${watches}${supersededBy ? `; superseded by ${supersededBy}` : ''}`];
  if (health.status === 'window-over')
    return [
      watches,
      `heartbeat: the window ended at ${health.windowEndsAt} ` +
        `without a recorded outcome (last beat ${health.lastBeatAt})`,
    ];
  const lines = [health.isWatchingServing === false ? `${watches}  — NOT the release serving` : watches];
  lines.push(
    health.status === 'beating'
      ? `heartbeat: beating (pid ${health.pid ?? '?'}, last ${health.lastBeatAt})`
      : `heartbeat: NOT BEATING since ${health.lastBeatAt}: ${health.reason}`,
  );
  return [...lines, ...health.warnings.map((w) => `WARNING: ${w}`)];
}
