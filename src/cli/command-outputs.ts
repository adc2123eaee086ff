// The log file and notifier of a command that changes an environment (deploy, rollback), and its last line.
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../rollout/config/environments.js';
import type { Redactor } from '../lib/redact.js';
import type { Notifier } from '../rollout/notify/index.js';
import { createCliNotifier } from './cli-notifier.js';
import { createCommandLogger, type CommandLogger } from './command-logger.js';
import type { CliContext } from './context.js';

export interface CommandOutputs {
  log: CommandLogger;
  /** undefined on a dry run. */
  notifier: Notifier | undefined;
}

/**
 * `<env logs>/<component>.log` and the environment's notifier. A dry run changes nothing, so it writes no log file
 * and tells no one.
 */
export function createCommandOutputs(
  ctx: CliContext,
  input: {
    projectRoot: string;
    environment: ResolvedEnvironment;
    component: string;
    redact: Redactor;
    isDryRun: boolean;
  },
): CommandOutputs {
  const { projectRoot, environment, component, redact, isDryRun } = input;
  const log = createCommandLogger(ctx, {
    file: isDryRun ? undefined : join(environment.logsDir, `${component}.log`),
    component,
  });
  const notifier = isDryRun
    ? undefined
    : createCliNotifier(ctx, { projectRoot, environment, logger: log.logger, redact });
  return { log, notifier };
}

/** `OK: <message> [<deploy id>]`: the last line of a deploy or rollback, single host or fleet alike. */
export function formatOutcomeLine(result: { ok: boolean; message: string; deployId?: string }): string {
  return `${result.ok ? 'OK' : 'FAILED'}: ${result.message}${result.deployId ? ` [${result.deployId}]` : ''}`;
}
