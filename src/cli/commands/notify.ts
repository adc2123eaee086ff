// `dhash notify <event> --env E` sends a deploy notification;
// `dhash notify flush` re-sends what waits in notifications_out/.
import { relative } from 'node:path';
import { createCliNotifier } from '../cli-notifier.js';
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { DURATION_FORM, parseDurationMs } from '../../rollout/core/duration.js';
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createRedactor } from '../../lib/redact.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import { flushOutbox, isNotifyEventName, NOTIFY_EVENTS } from '../../rollout/notify/index.js';

interface NotifyOptions {
  env?: string;
  dryRun?: boolean;
  duration?: string;
  message?: string;
  release?: string;
  deployId?: string;
  includeDryRun?: boolean;
}

export const registerNotify: RegisterCommand = (program, ctx, run) => {
  program
    .command('notify')
    .description(
      'Send a deploy notification to the channels routed for its severity; undelivered ones go to notifications_out/',
    )
    .argument('<event>', `one of ${NOTIFY_EVENTS.join(', ')}; or "flush" to re-send pending outbox files`)
    .option('--env <name>', 'environment (required to send; optional filter for flush)')
    .option('--dry-run', 'send nothing; write the notification to notifications_out/')
    .option('--duration <text>', `how long the step took: ${DURATION_FORM}`)
    .option('--message <text>', 'the summary line (defaults to one per event)')
    .option('--release <id>', 'the release the notification is about')
    .option('--deploy-id <id>', 'the deploy id (PagerDuty dedups trigger and resolve by it)')
    .option('--include-dry-run', 'flush: also send files written by --dry-run')
    .addHelpText(
      'after',
      [
        '',
        'Channels (each optional, set by environment variables): SLACK_WEBHOOK, TEAMS_WEBHOOK, DISCORD_WEBHOOK,',
        'DEPLOY_WEBHOOK, PAGERDUTY_ROUTING_KEY (+PAGERDUTY_URL), ' +
          'EMAIL_SMTP_URL or EMAIL_HOST/EMAIL_PORT/EMAIL_USER/EMAIL_PASS',
        'with EMAIL_FROM and EMAIL_TO (comma list). Routing per severity: notifications.routing in environments.json.',
        'Exit 0 when every notification was delivered or written to notifications_out/.',
      ].join('\n'),
    )
    .action(
      run(async (event: string, opts: NotifyOptions) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const redact = createRedactor(ctx.processEnv);
        const show = (file: string) => relative(ctx.cwd, file) || file;
        if (event === 'flush') {
          if (opts.env) await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
          const result = await flushOutbox({
            projectRoot,
            processEnv: ctx.processEnv,
            clock: ctx.clock,
            envName: opts.env,
            includeDryRun: opts.includeDryRun,
            redact,
          });
          for (const item of result.items) {
            ctx.stdout.write(
              redact(
                `${item.status.padEnd(9)} ${item.channel.padEnd(9)} ` +
                  `${show(item.file)}${item.detail ? `  (${item.detail})` : ''}\n`,
              ),
            );
          }
          ctx.stdout.write(
            `flushed: ${result.delivered} delivered, ${result.pending} still pending, ${result.skipped} skipped\n`,
          );
          return ExitCode.OK;
        }
        if (!isNotifyEventName(event)) throw createError('EUNKNOWNEVENT', { event, known: NOTIFY_EVENTS });
        if (!opts.env)
          throw createError('EINVALIDOPTION', {
            option: '--env',
            expected: 'an environment name such as `staging`',
            actual: undefined,
          });
        let durationMs: number | undefined;
        if (opts.duration !== undefined) {
          durationMs = parseDurationMs(opts.duration);
          if (durationMs === undefined)
            throw createError('EINVALIDOPTION', {
              option: '--duration',
              expected: DURATION_FORM,
              actual: opts.duration,
            });
        }
        const environment = await resolveEnvironment(projectRoot, opts.env, ctx.processEnv);
        const notifier = createCliNotifier(ctx, {
          projectRoot,
          environment,
          isDryRun: opts.dryRun,
          redact,
        });
        const report = await notifier.send({
          event,
          ...(durationMs !== undefined ? { durationMs } : {}),
          ...(opts.message ? { message: opts.message } : {}),
          ...(opts.release ? { release: opts.release } : {}),
          ...(opts.deployId ? { deployId: opts.deployId } : {}),
        });
        for (const d of report.deliveries) {
          const where = d.outboxFile ? ` -> ${show(d.outboxFile)}` : '';
          const why = d.error ? `  (${d.error})` : '';
          const tries = d.attempts ? `, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : '';
          ctx.stdout.write(redact(`${d.status.padEnd(9)} ${d.channel}${tries}${where}${why}\n`));
        }
        const outboxed = report.outboxFiles.length;
        ctx.stdout.write(
          `${event} (${report.severity}) for ${environment.name}: ${report.deliveries.length - outboxed} delivered, ` +
            `${outboxed} written to ${show(environment.paths.notificationsOutDir)}/\n`,
        );
        return ExitCode.OK;
      }),
    );
};
