// The one-command guarded deploy as data: validate → backup → migrations → deploy → smoke → monitor, with
// notify/incident hooks.
import type { Writable } from 'node:stream';
import { relative } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { createError, isDhashError } from '../../lib/errors.js';
import { formatDurationMs } from '../core/duration.js';
import type { Redactor } from '../../lib/redact.js';
import type { Logger } from '../../lib/logger.js';
import type { Notifier } from '../notify/index.js';
import { createBackup, createBackupRefusal, verifyBackup } from '../backup/index.js';
import { createPreflightRefusal, deployRelease, type DeployResult } from '../deploy/deploy-release.js';
import { createIncident } from '../incident/create-incident.js';
import { loadQualityGates } from '../config/quality-gates.js';
import { launchDetachedMonitor, runAttachedMonitor, type MonitorLaunch } from '../monitor/launch-monitor.js';
import type { PipelineDefinition } from './types.js';

export interface QuickDeployContext {
  projectRoot: string;
  environment: ResolvedEnvironment;
  processEnv: Record<string, string | undefined>;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  redact: Redactor;
  isDryRun: boolean;
  release?: string;
  isSkipMigrations: boolean;
  isFollow: boolean;
  /** --force: preflight lets an unhealthy or gate-failing production through (as `dhash deploy --force`). */
  isForce?: boolean;
  /** Human lines (plans, the monitor's live output). */
  out: Writable;
  signal?: AbortSignal;
  // Filled in by the steps:
  plan?: DeployResult;
  backupFile?: string;
  pendingMigrations?: number;
  deploy?: DeployResult;
  monitor?: MonitorLaunch & { exitCode?: number };
  incidentId?: string;
}

export function createQuickDeployPipeline(): PipelineDefinition<QuickDeployContext> {
  return {
    name: 'quick-deploy',
    steps: [
      {
        name: 'preflight:validate',
        description: 'validate config, lock, disk, target, release and migrations; print the plan (changes nothing)',
        isRequired: true,
        runsInDryRun: true,
        async run(c) {
          // Every configuration is validated before anything changes, the monitor's gates included.
          await loadQualityGates(c.projectRoot, c.environment.name);
          const plan = await deployRelease({
            environment: c.environment,
            release: c.release,
            isDryRun: true,
            isBackupPlanned: true,
            force: c.isForce,
            clock: c.clock,
            logger: c.logger.child('deploy'),
            processEnv: c.processEnv,
            onProgress: (l) => c.out.write(`${l}\n`),
          });
          c.plan = plan;
          c.pendingMigrations = plan.preflight.pendingMigrations;
          if (!plan.ok) throw createPreflightRefusal(c.environment.name, plan.preflight);
          return {
            status: 'succeeded',
            summary:
              `${plan.preflight.checks.length} checks passed; ` +
              `release ${plan.releaseId}${plan.isFirstDeploy ? ' (first deploy)' : ''}`,
          };
        },
      },
      {
        name: 'backup:create',
        description: 'back up the current release, database and config to backups/ with its .sha256, then verify it',
        isRequired: true,
        runsInDryRun: true,
        async run(c) {
          const firstDeploy = {
            status: 'skipped' as const,
            reason: `first deploy of ${c.environment.name}: nothing to back up yet`,
          };
          if (c.isDryRun) {
            const planned = await createBackup(c.environment, {
              isDryRun: true,
              clock: c.clock,
              logger: c.logger.child('backup'),
            });
            if (planned.plan.isNothingToBackUp) return firstDeploy;
            return {
              status: 'succeeded',
              summary:
                `would write ${relative(c.projectRoot, planned.plan.file)} ` +
                `(${planned.plan.totalBytes} bytes to read)`,
            };
          }
          let created;
          try {
            created = await createBackup(c.environment, {
              clock: c.clock,
              logger: c.logger.child('backup'),
              reason: 'pre-deploy',
            });
          } catch (error) {
            if (isDhashError(error, 'ENOTHINGTOBACKUP')) return firstDeploy;
            throw error;
          }
          const verified = await verifyBackup(created.file, {
            expectedEnv: c.environment.name,
            projectRoot: c.projectRoot,
          });
          if (!verified.ok) throw createBackupRefusal(created.file, verified, c.projectRoot);
          c.backupFile = created.file;
          return {
            status: 'succeeded',
            summary: `${relative(c.projectRoot, created.file)} verified (sha256 ${created.sha256.slice(0, 12)}…)`,
          };
        },
      },
      {
        name: 'migrate:plan',
        description:
          'dry-run the pending migrations on a copy of the database; ' +
          'deploy:release applies them (with a pre-migration copy for switch-back)',
        isRequired: true,
        runsInDryRun: true,
        async run(c) {
          const pending = c.pendingMigrations ?? 0;
          if (pending === 0) return { status: 'skipped', reason: 'no pending migrations' };
          if (c.isSkipMigrations) {
            throw createError('ESKIPMIGRATIONSREFUSED', { env: c.environment.name, pending });
          }
          // Do work once: preflight:validate dry-ran them on a copy (it fails the run if they do not pass); not run
          // again.
          const preflight = c.plan?.preflight;
          return {
            status: 'succeeded',
            summary:
              `schema ${preflight?.fromSchemaVersion} → ${preflight?.toSchemaVersion}: ` +
              `${pending} migration(s) pass on a copy`,
          };
        },
      },
      {
        name: 'deploy:release',
        description:
          'stage the release, apply migrations, switch `current`, restart, wait for healthy, run smoke tests; ' +
          'switch back on failure',
        isRequired: true,
        runsInDryRun: false,
        async run(c) {
          const result = await deployRelease({
            environment: c.environment,
            release: c.release,
            preflight: c.plan?.preflight,
            clock: c.clock,
            logger: c.logger.child('deploy'),
            processEnv: c.processEnv,
            backupFile: c.backupFile,
            signal: c.signal,
            onProgress: (l) => c.out.write(`${l}\n`),
          });
          c.deploy = result;
          if (!result.ok)
            throw createError('EDEPLOYFAILED', {
              env: c.environment.name,
              reason: result.message,
              exitCode: result.exitCode === 4 ? 4 : 1,
            });
          return { status: 'succeeded', summary: `${result.releaseId} serving (deploy ${result.deployId})` };
        },
      },
      {
        name: 'smoke:verify',
        description:
          "check the deploy's smoke tests passed against the new release " +
          '(they ran before the deploy was declared good)',
        isRequired: true,
        runsInDryRun: false,
        async run(c) {
          const smoke = c.deploy?.smoke;
          if (!smoke?.ok)
            throw createError('ESMOKENOTVERIFIED', {
              env: c.environment.name,
              deployId: c.deploy?.deployId ?? 'unknown',
            });
          return {
            status: 'succeeded',
            summary: `${smoke.checks.length} smoke tests passed (log ${relative(c.projectRoot, smoke.logFile)})`,
          };
        },
      },
      {
        name: 'monitor:start',
        description: 'start the T+60 monitor with quality gates and auto-rollback (detached; --follow stays attached)',
        isRequired: true,
        runsInDryRun: false,
        async run(c) {
          const input = {
            projectRoot: c.projectRoot,
            envName: c.environment.name,
            deployId: c.deploy!.deployId!,
            logsDir: c.environment.logsDir,
            processEnv: c.processEnv,
          };
          if (!c.isFollow) {
            // Reported running only once it holds its lock and wrote its first state (issue 9); else
            // EMONITORNOTSTARTED.
            c.monitor = await launchDetachedMonitor({ ...input, environment: c.environment, clock: c.clock });
            return {
              status: 'succeeded',
              summary: `pid ${c.monitor.pid} holds the monitor lock for ${input.deployId}, log ${c.monitor.logFile}`,
            };
          }
          const attached = await runAttachedMonitor({
            ...input,
            out: c.out,
            signal: c.signal,
            onStart: (l) => c.out.write(`monitor started (pid ${l.pid}, log ${l.logFile}); following it live:\n`),
          });
          c.monitor = { ...attached.launch, exitCode: attached.exitCode };
          if (attached.exitCode !== 0) {
            const code = ([2, 3, 4] as const).find((n) => n === attached.exitCode) ?? 1;
            throw createError('EMONITORNOTCLEAR', {
              env: c.environment.name,
              exitCode: code,
              logFile: attached.launch.logFile,
            });
          }
          return { status: 'succeeded', summary: 'the monitor window ended all clear' };
        },
      },
    ],
    hooks: [
      {
        name: 'notify:start',
        description: 'send the `start` notification (outboxed under --dry-run)',
        placement: { on: 'before', step: 'preflight:validate' },
        runsInDryRun: true,
        run: async (c) =>
          void (await c.notifier.send({
            event: 'start',
            release: c.release ?? 'the checkout',
            message: `quick-deploy to ${c.environment.name} started`,
          })),
      },
      {
        name: 'notify:success',
        description: 'send `success` with the duration',
        placement: { on: 'succeeded' },
        runsInDryRun: true,
        run: async (c, info) =>
          void (await c.notifier.send({
            event: 'success',
            release: c.deploy?.releaseId ?? c.plan?.releaseId,
            deployId: c.deploy?.deployId,
            durationMs: info.durationMs,
            message: c.isDryRun
              ? 'dry run: nothing was changed'
              : c.monitor?.exitCode === undefined
                ? `deployed; monitor running (pid ${c.monitor?.pid})`
                : `deployed; monitor exited ${c.monitor.exitCode}`,
          })),
      },
      {
        name: 'notify:failure',
        description: 'send `failure` with the failed step and the duration',
        placement: { on: 'failed' },
        runsInDryRun: true,
        run: async (c, info) =>
          void (await c.notifier.send({
            event: 'failure',
            release: c.deploy?.releaseId ?? c.plan?.releaseId,
            deployId: c.deploy?.deployId,
            durationMs: info.durationMs,
            message:
              `${info.failedStep} failed after ${formatDurationMs(info.durationMs)}: ` +
              `${c.redact(info.error instanceof Error ? info.error.message : String(info.error))}`,
          })),
      },
      {
        name: 'incident:open',
        description: 'record an incident when the failure touched the target (switch-back or a stopped first release)',
        placement: { on: 'failed' },
        runsInDryRun: false,
        async run(c, info) {
          if (!c.deploy?.deployId) return { status: 'skipped', reason: 'nothing was changed: no incident' };
          // The monitor records its own incident for an automatic rollback; one incident per event.
          if (c.monitor) return { status: 'skipped', reason: 'the monitor recorded the incident of its rollback' };
          const d = c.deploy;
          const incident = await createIncident(
            {
              env: c.environment.name,
              deployId: d.deployId,
              releaseId: d.releaseId,
              severity: d.exitCode === 4 ? 'critical' : 'warning',
              title: `quick-deploy of ${d.releaseId} failed at ${info.failedStep}`,
              trigger: { description: c.redact(info.error instanceof Error ? info.error.message : String(info.error)) },
              timeline: d.timeline.map((t) => ({ time: t.time, step: t.step, status: t.status, detail: t.detail })),
              ...(c.backupFile ? { backup: { file: c.backupFile, verified: true } } : {}),
              verification: {
                healthChecks: d.healthChecks?.checks ?? [],
                ...(d.smoke ? { smoke: { ok: d.smoke.ok, checks: d.smoke.checks } } : {}),
              },
              notify: false,
            },
            { projectRoot: c.projectRoot, clock: c.clock, redact: c.redact },
          );
          c.incidentId = incident.id;
          return {
            status: 'succeeded',
            summary: `incident ${incident.id} (${relative(c.projectRoot, incident.mdFile)})`,
          };
        },
      },
    ],
  };
}
