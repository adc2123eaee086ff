// A command's human output: one redacted line at a time to stdout, so no command prints a secret by accident.
import type { CliContext } from './context.js';
import { createRedactor, type Redactor } from '../lib/redact.js';

export function createLineWriter(
  ctx: Pick<CliContext, 'stdout' | 'processEnv'>,
  redact: Redactor = createRedactor(ctx.processEnv),
): (line?: string) => void {
  return (line = '') => ctx.stdout.write(redact(line) + '\n');
}
