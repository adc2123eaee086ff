// A TargetDriver (an interface the project owns) that runs the real dhash service in this process on the
// environment's port and store: rollback tests stop and start a real service without building a release.
import { PassThrough } from 'node:stream';
import type { ResolvedEnvironment } from '../../src/rollout/config/environments.js';
import type { TargetDriver, TargetStatus } from '../../src/rollout/target/index.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { createRequestLogger } from '../../src/service/http/request-logger.js';
import { createRedactor } from '../../src/lib/redact.js';

export interface InProcessDriver extends TargetDriver {
  /** How often start() brought the service up. */
  readonly startCount: number;
}

/** The driver; the service is stopped when the test ends. `url` is the store's (a PostgreSQL URL). */
export function createInProcessDriver(
  t: { after: (fn: () => Promise<void>) => void },
  environment: ResolvedEnvironment,
  url: string,
): InProcessDriver {
  let service: RunningService | undefined;
  let startCount = 0;
  const status = (): TargetStatus =>
    service ? { isRunning: true, detail: 'running in-process' } : { isRunning: false, detail: 'not running' };
  const driver: InProcessDriver = {
    type: 'in-process',
    get startCount() {
      return startCount;
    },
    async start() {
      if (service) return status();
      service = await startService({
        host: environment.host,
        port: environment.port,
        database: { engine: 'postgres', url },
        version: '0.1.0-test',
        logger: createRequestLogger({ stream: new PassThrough().resume(), redact: createRedactor({}) }),
      });
      startCount++;
      return { isRunning: true, detail: 'started in-process' };
    },
    async stop() {
      const running = service;
      service = undefined;
      await running?.close();
    },
    async restart() {
      await driver.stop();
      return driver.start();
    },
    async status() {
      return status();
    },
    async check() {
      return { ok: true, detail: 'in-process' };
    },
  };
  t.after(() => driver.stop());
  return driver;
}
