// Builds a temp project (environments.json with a `production` environment) and a notifier on a manual clock.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createManualClock } from '../../../src/lib/clock.js';
import { resolveEnvironment } from '../../../src/rollout/config/environments.js';
import { createRedactor } from '../../../src/lib/redact.js';
import { createJsonLogger } from '../../../src/lib/logger.js';
import { createNotifier } from '../../../src/rollout/notify/index.js';
import type { DeliveryPolicy } from '../../../src/rollout/notify/deliver.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { createAttemptTracker } from '../../helpers/notify-servers.js';

export async function createNotifyProject(
  t: { after: (fn: () => Promise<void>) => void },
  routing?: Record<string, string[]>,
) {
  const root = await createTempDir(t, 'dhash-notify-');
  const production: Record<string, unknown> = { root: '.dhash/production', service: { port: 8789 } };
  if (routing) production.notifications = { routing };
  await writeFile(join(root, 'environments.json'), JSON.stringify({ environments: { production } }));
  return root;
}

export async function createTestNotifier(
  root: string,
  env: Record<string, string>,
  options: { isDryRun?: boolean; policy?: Partial<DeliveryPolicy> } = {},
) {
  const clock = createManualClock();
  const tracker = createAttemptTracker();
  const redact = createRedactor(env);
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (c) => (logText += c));
  const logger = createJsonLogger({ clock, redact, streams: [logStream], level: 'debug' });
  const environment = await resolveEnvironment(root, 'production', env);
  const notifier = createNotifier({
    projectRoot: root,
    environment,
    processEnv: env,
    clock,
    logger,
    observer: tracker,
    random: () => 0.5,
    redact,
    ...options,
  });
  return { clock, tracker, notifier, environment, getLogText: () => logText };
}
