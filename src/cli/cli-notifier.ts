// The notifier of a CLI command: the context's process environment and clock, the command's logger and redactor.
import type { CliContext } from './context.js';
import { createNotifier, type Notifier, type NotifierOptions } from '../rollout/notify/index.js';

/** Everything but what the CLI context already holds (processEnv, clock). */
export type CliNotifierOptions = Omit<NotifierOptions, 'processEnv' | 'clock'>;

export function createCliNotifier(
  ctx: Pick<CliContext, 'processEnv' | 'clock'>,
  options: CliNotifierOptions,
): Notifier {
  return createNotifier({ ...options, processEnv: ctx.processEnv, clock: ctx.clock });
}
