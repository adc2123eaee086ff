// Every command run on an environment says plainly when the monitor
// of a deploy inside its window has stopped beating (issue 9).
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { findProjectRoot } from '../lib/project-paths.js';

/** `status` prints the same judgement in its own monitor section. */
const COMMANDS_WITH_OWN_REPORT = new Set(['status']);

/**
 * A commander `preAction` hook: for a command given `--env`, reads the monitor's state, lock and `current` (three small
 * reads) and writes its warnings to stderr. Never fails the command:
 * an unresolvable environment is the command's to report.
 */
export function createMonitorWarningHook(
  ctx: CliContext,
): (thisCommand: Command, actionCommand: Command) => Promise<void> {
  return async (_thisCommand, actionCommand) => {
    const envName = (actionCommand.opts() as { env?: unknown }).env;
    if (typeof envName !== 'string' || COMMANDS_WITH_OWN_REPORT.has(actionCommand.name())) return;
    try {
      // Loaded here, not at start-up: only commands given --env need the rollout's config and monitor modules.
      const { resolveEnvironment } = await import('../rollout/config/environments.js');
      const { getMonitorHealth } = await import('../rollout/monitor/monitor-health.js');
      const environment = await resolveEnvironment(findProjectRoot(ctx.cwd), envName, ctx.processEnv);
      const health = await getMonitorHealth(environment, ctx.clock.now());
      for (const warning of health.warnings) ctx.stderr.write(`dhash: WARNING: ${warning}\n`);
    } catch {
      // The command itself resolves the environment and reports a bad name or config with its coded error.
    }
  };
}
