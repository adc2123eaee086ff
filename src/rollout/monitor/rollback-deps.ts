// The real effects behind auto-rollback: backup verification, the manual rollback, stopping the service, the incident record.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../core/clock.js';
import { verifyBackup } from '../backup/verify-backup.js';
import { createRedactor } from '../core/redact.js';
import { createIncident } from '../incident.js';
import { rollbackFromBackup } from '../rollback.js';
import type { Notifier } from '../notify/index.js';
import { createTargetDriver } from '../target/index.js';
import type { Logger } from '../../lib/logger.js';
import type { AutoRollbackDeps } from './auto-rollback.js';

// The rollback is not given the notifier: the monitor sends rollback-start/success/failure itself, with the gate that fired.
export function createRollbackDeps(ctx: { env: ResolvedEnvironment; clock: Clock; logger: Logger; notifier: Notifier; processEnv?: Record<string, string | undefined> }): AutoRollbackDeps {
  const { env, clock, logger } = ctx;
  const redact = createRedactor(ctx.processEnv ?? {});
  return {
    async verifyBackup(file) {
      const result = await verifyBackup(file, { expectedEnv: env.name, projectRoot: env.paths.root });
      return { ok: result.ok, problems: result.problems.map((p) => `${p.code}: ${p.message}`) };
    },
    async rollbackFromBackup(file) {
      const result = await rollbackFromBackup({
        env, backupFile: file, force: true, dryRun: false, clock, logger, processEnv: ctx.processEnv, reason: 'monitor',
        onProgress: (line) => logger.info(line, { step: 'rollback:progress' }),
      });
      return {
        ok: result.ok,
        restoredReleaseId: result.restoredReleaseId,
        healthChecks: (result.healthChecks?.checks ?? []).map((c) => ({ at: c.at, ok: c.ok })),
        ...(result.smoke ? { smokeOk: result.smoke.ok } : {}),
        timeline: result.timeline,
        detail: result.message,
      };
    },
    async stopService() {
      await createTargetDriver(env, { clock, logger, env: ctx.processEnv }).stop();
    },
    async createIncident(request) {
      const { id } = await createIncident(
        {
          env: request.env, severity: request.severity, title: request.title, deployId: request.deployId, releaseId: request.releaseId,
          trigger: { ...request.trigger, description: `${request.outcome}: ${request.reason}` },
          timeline: request.timeline, backup: request.backup, verification: request.verification, deliveries: request.deliveries,
          monitorLogs: request.monitorLogs,
          // The monitor already sent rollback-success / rollback-failure; the incident adds no second page.
          notify: false,
        },
        { projectRoot: env.paths.root, clock, redact, notifier: ctx.notifier },
      );
      return { id };
    },
  };
}
