// `dhash incident create` writes an incident record (and pages when critical); `dhash incident list` shows them.
import { existsSync } from 'node:fs';
import { createCliNotifier } from '../cli-notifier.js';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import type { RegisterCommand } from '../context.js';
import { resolveEnvironment } from '../../rollout/config/environments.js';
import { readJsonFile, validateConfig } from '../../rollout/config/load-json-config.js';
import { createError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { createRedactor } from '../../lib/redact.js';
import { findProjectRoot } from '../../lib/project-paths.js';
import {
  createIncident,
  describeTrigger,
  listIncidents,
  type IncidentInput,
} from '../../rollout/incident/create-incident.js';
import { NOTIFY_EVENTS, SEVERITIES } from '../../rollout/notify/index.js';

const value = z.union([z.number(), z.string(), z.null()]);
/** What --from-json may hold: any part of an incident (flags override it). */
const incidentFileSchema = z.strictObject({
  env: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  title: z.string().optional(),
  deployId: z.string().optional(),
  releaseId: z.string().optional(),
  trigger: z
    .strictObject({
      gate: z.string().optional(),
      observed: value.optional(),
      threshold: z.union([z.number(), z.string()]).optional(),
      window: z.string().optional(),
      description: z.string().optional(),
    })
    .optional(),
  timeline: z
    .array(z.strictObject({ time: z.string(), step: z.string(), status: z.string(), detail: z.string().optional() }))
    .optional(),
  backup: z
    .strictObject({ file: z.string(), verified: z.boolean(), problems: z.array(z.string()).optional() })
    .optional(),
  verification: z
    .strictObject({
      healthChecks: z.array(z.unknown()).optional(),
      smoke: z
        .strictObject({
          ok: z.boolean(),
          checks: z
            .array(
              z.strictObject({
                name: z.string(),
                ok: z.boolean(),
                detail: z.string().optional(),
                durationMs: z.number().optional(),
              }),
            )
            .optional(),
        })
        .optional(),
    })
    .optional(),
  deliveries: z
    .array(
      z.strictObject({
        channel: z.string(),
        status: z.string(),
        attempts: z.number().optional(),
        error: z.string().optional(),
        outboxFile: z.string().optional(),
        event: z.string().optional(),
      }),
    )
    .optional(),
  monitorLogs: z.array(z.string()).optional(),
  notifyEvent: z.enum(NOTIFY_EVENTS).optional(),
});

interface CreateOptions {
  env?: string;
  trigger?: string;
  severity?: string;
  fromJson?: string;
  deployId?: string;
  title?: string;
  monitorLog?: string[];
  notify: boolean;
}

export const registerIncident: RegisterCommand = (program, ctx, run) => {
  const incident = program.command('incident').description('Incident records in incidents/ (JSON + Markdown)');
  incident
    .command('create')
    .description(
      'Write incidents/<id>.json and .md; a critical incident also pages through the routed channels (PagerDuty)',
    )
    .option('--env <name>', 'the environment the incident is about (required unless in --from-json)')
    .option('--trigger <text>', 'what triggered it, e.g. "p95 hash time 2450 ms > 2000 ms over 15m"')
    .option('--severity <level>', `one of ${SEVERITIES.join(', ')} (default critical)`)
    .option(
      '--from-json <file>',
      'a JSON file with any part of the record (trigger, timeline, backup, verification, deliveries, monitorLogs)',
    )
    .option('--deploy-id <id>', 'the deploy the incident belongs to')
    .option('--title <text>', 'a short title')
    .option('--monitor-log <path...>', 'monitor log files to link')
    .option('--no-notify', 'do not send the incident notification')
    .action(
      run(async (opts: CreateOptions) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const redact = createRedactor(ctx.processEnv);
        const fromFile = opts.fromJson ? await readIncidentFile(resolve(ctx.cwd, opts.fromJson), opts.fromJson) : {};
        const envName = opts.env ?? fromFile.env;
        if (!envName)
          throw createError('EINVALIDOPTION', {
            option: '--env',
            expected: 'an environment name such as `production`',
            actual: undefined,
          });
        if (opts.severity !== undefined && !(SEVERITIES as readonly string[]).includes(opts.severity)) {
          throw createError('EINVALIDOPTION', {
            option: '--severity',
            expected: `one of ${SEVERITIES.join(', ')}`,
            actual: opts.severity,
          });
        }
        if (!opts.trigger && !fromFile.trigger) {
          throw createError('EINVALIDOPTION', {
            option: '--trigger',
            expected: 'a description of what triggered the incident (or a "trigger" in --from-json)',
            actual: undefined,
          });
        }
        const environment = await resolveEnvironment(projectRoot, envName, ctx.processEnv);
        const input: IncidentInput = {
          ...fromFile,
          env: environment.name,
          trigger: { ...fromFile.trigger, ...(opts.trigger ? { description: opts.trigger } : {}) },
          ...(opts.severity ? { severity: opts.severity as IncidentInput['severity'] } : {}),
          ...(opts.deployId ? { deployId: opts.deployId } : {}),
          ...(opts.title ? { title: opts.title } : {}),
          ...(opts.monitorLog ? { monitorLogs: [...(fromFile.monitorLogs ?? []), ...opts.monitorLog] } : {}),
          notify: opts.notify,
        };
        const notifier = createCliNotifier(ctx, {
          projectRoot,
          environment,
          redact,
        });
        const result = await createIncident(input, { projectRoot, clock: ctx.clock, redact, notifier });
        ctx.stdout.write(
          `${result.id} (${result.record.severity}): ${redact(describeTrigger(result.record.trigger))}\n`,
        );
        ctx.stdout.write(`  ${relative(ctx.cwd, result.jsonFile)}\n  ${relative(ctx.cwd, result.mdFile)}\n`);
        for (const d of result.record.deliveries)
          ctx.stdout.write(
            redact(`  notification ${d.channel}: ${d.status}${d.outboxFile ? ` -> ${d.outboxFile}` : ''}\n`),
          );
        return ExitCode.OK;
      }),
    );
  incident
    .command('list')
    .description('List incident records, newest first')
    .option('--env <name>', 'only this environment')
    .action(
      run(async (opts: { env?: string }) => {
        const projectRoot = findProjectRoot(ctx.cwd);
        const all = (await listIncidents(projectRoot)).filter((i) => !opts.env || i.record.env === opts.env);
        if (all.length === 0) ctx.stdout.write('No incidents recorded.\n');
        for (const { file, record } of all) {
          ctx.stdout.write(
            `${record.id}  ${record.severity.padEnd(8)}  ${record.createdAt}  ` +
              `${describeTrigger(record.trigger)}  (${relative(ctx.cwd, file)})\n`,
          );
        }
        return ExitCode.OK;
      }),
    );
};

async function readIncidentFile(file: string, shown: string): Promise<z.output<typeof incidentFileSchema>> {
  if (!existsSync(file))
    throw createError('EINVALIDOPTION', { option: '--from-json', expected: 'an existing JSON file', actual: shown });
  return validateConfig(incidentFileSchema, await readJsonFile(file, file), shown);
}
