// Waits for an environment's service to pass N consecutive health checks, for deploys and rollbacks alike.
import type { Clock } from '../../lib/clock.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';
import type { TargetDriver } from '../target/index.js';
import { waitForHealthy, type HealthWaitResult } from './health.js';

/**
 * N consecutive OK checks at the environment's interval, within its health timeout. A process that died stops the wait
 * at once instead of at the timeout. Throws an Error carrying the `health` result when the wait fails.
 */
export async function waitForServiceHealthy(
  environment: ResolvedEnvironment,
  driver: TargetDriver,
  options: { consecutiveOk: number; clock: Clock; signal?: AbortSignal },
): Promise<HealthWaitResult> {
  const health = await waitForHealthy(environment.healthUrl, {
    consecutiveOk: options.consecutiveOk,
    intervalMs: environment.config.deploy.healthCheckIntervalMs,
    timeoutMs: environment.config.deploy.healthTimeoutMs,
    clock: options.clock,
    signal: options.signal,
    headers: getServiceAuthHeaders(environment),
    getAbortReason: async () =>
      driver.type === 'process' && !(await driver.status()).isRunning
        ? 'the service process exited (see logs/service.log)'
        : undefined,
  });
  if (!health.ok) throw Object.assign(new Error(`health check failed: ${health.reason}`), { health });
  return health;
}
