// The real effects behind auto-rollback: backup verification, the manual rollback, stopping the service, the incident record.
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../core/clock.js';
import { Writable } from 'node:stream';
import { checkEnvironment, checkOuterChecksum } from '../backup/verify-backup.js';
import { openZip } from '../backup/zip-reader.js';
import { backupManifestSchema, MANIFEST_PATH } from '../core/backup-manifest.js';
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
    verifyBackup: (file) => verifyChecksumAndManifest(file, env),
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

/**
 * The monitor's gate before touching anything: the zip's sha256 against its .sha256 and a valid manifest of this env.
 * Every entry's hash is then checked by rollbackFromBackup itself before it changes anything (a refusal there is
 * reported as a blocked rollback too); checking them twice would add tens of seconds to the time to recover.
 */
export async function verifyChecksumAndManifest(file: string, env: ResolvedEnvironment): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  try {
    const outer = await checkOuterChecksum(file, { projectRoot: env.paths.root });
    problems.push(...outer.problems.map((p) => `${p.code}: ${p.message}`));
    const zip = await openZip(file);
    try {
      const info = zip.entries.find((e) => e.name === MANIFEST_PATH);
      if (!info) {
        problems.push(`EBACKUPINVALID: ${MANIFEST_PATH} is missing from the zip`);
      } else {
        const chunks: Buffer[] = [];
        await zip.readEntry(info, new Writable({ write: (c, _e, done) => (chunks.push(c as Buffer), done()) }));
        const parsed = backupManifestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (!parsed.success) problems.push(`EBACKUPINVALID: ${MANIFEST_PATH} does not match the manifest format`);
        else problems.push(...(await checkEnvironment(file, parsed.data, env.name)).map((p) => `${p.code}: ${p.message}`));
      }
    } finally {
      zip.close();
    }
  } catch (error) {
    problems.push(`EBACKUPINVALID: ${(error as Error).message}`);
  }
  return { ok: problems.length === 0, problems };
}
