// The real effects behind auto-rollback: the journal's deploy facts, the one backup verification, the rollback, the
// incident.
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { computeContentSha256 } from '../release/content-hash.js';
import type { Clock } from '../../lib/clock.js';
import { getDeployRollbackFacts } from '../core/rollback-strategy.js';
import { createRedactor } from '../../lib/redact.js';
import { createIncident } from '../incident/create-incident.js';
import { readJournal } from '../state/journal.js';
import { rollBackDeploy } from '../rollback/rollback-from-backup.js';
import { verifyRollbackBackup } from '../rollback/rollback-verify.js';
import type { Notifier } from '../notify/index.js';
import type { Logger } from '../../lib/logger.js';
import type { AutoRollbackDeps } from './auto-rollback.js';

// The rollback is not given the notifier: the monitor sends rollback-start/success/failure itself, with the gate that
// fired.
export function createRollbackDeps(ctx: {
  environment: ResolvedEnvironment;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  processEnv?: Record<string, string | undefined>;
}): AutoRollbackDeps {
  const { environment, clock, logger } = ctx;
  const redact = createRedactor(ctx.processEnv ?? {});
  // Hashing the previous release runs while the backup's sha256 is read: on a 1 GB backup that overlap is seconds.
  let releaseHash: Promise<string> | undefined;
  return {
    async getDeployFacts(deployId) {
      const facts = getDeployRollbackFacts(await readJournal(environment), deployId);
      if (facts.previousReleaseId) {
        releaseHash = computeContentSha256(join(environment.releasesDir, facts.previousReleaseId));
        releaseHash.catch(() => {}); // awaited (and its error reported) by the rollback; never an unhandled rejection
      }
      return facts;
    },
    verifyBackup: (file) => verifyRollbackBackup(file, environment),
    async rollBack(request) {
      if (!request.verified.manifest) throw new Error('the backup has no readable manifest');
      return rollBackDeploy({
        environment,
        clock,
        logger,
        processEnv: ctx.processEnv,
        choice: request.choice,
        previousReleaseId: request.previousReleaseId,
        appliedVersions: request.appliedVersions,
        verified: { ...request.verified, manifest: request.verified.manifest },
        ...(releaseHash ? { previousReleaseContentSha256: releaseHash } : {}),
        onProgress: (line) => logger.info(line, { step: 'rollback:progress' }),
      });
    },
    async createIncident(input) {
      // The monitor already sent rollback-success / rollback-failure; the incident adds no second page.
      const { id } = await createIncident(
        { ...input, notify: false },
        { projectRoot: environment.paths.root, clock, redact, notifier: ctx.notifier },
      );
      return { id };
    },
  };
}
