// Preflight: the address the release will listen on is free, or held by this environment's own service. Another
// process there (a second checkout's service, a stale one whose pidfile is gone) makes the release exit with
// EPORTINUSE, and the health checks reach that process instead: its "OK" would be reported as the release's.
import { connect } from 'node:net';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';
import type { TargetDriver } from '../target/index.js';
import type { PreflightCheck } from './preflight.js';
import { formatHostPort } from '../../lib/host-port.js';

/** The drivers whose service listens on this machine, where a connect to its address says who holds it. */
const LOCAL_DRIVERS = new Set(['process', 'systemd']);
const CONNECT_TIMEOUT_MS = 1000;

export async function checkServicePort(
  environment: ResolvedEnvironment,
  driver: TargetDriver,
): Promise<PreflightCheck> {
  const name = 'preflight:port';
  const address = formatHostPort(environment.host, environment.port);
  if (!LOCAL_DRIVERS.has(driver.type))
    return { name, ok: true, detail: `${address}: not checked (the ${driver.type} target runs the service)` };
  const status = await driver.status().catch((error: Error) => ({ isRunning: false, detail: error.message }));
  if (status.isRunning)
    return { name, ok: true, detail: `${address} is held by the service itself (${status.detail})` };
  if (!(await acceptsConnections(environment.host, environment.port)))
    return { name, ok: true, detail: `${address} is free for the release` };
  const error = createError('EPORTTAKEN', { env: environment.name, address, service: status.detail });
  return { name, ok: false, exitCode: 3, detail: error.message, error };
}

/** Whether something accepts a TCP connection at host:port within a second (refused, unreachable or slow: no). */
function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const finish = (isAccepted: boolean) => {
      socket.destroy();
      resolve(isAccepted);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}
