// FleetHostOps over the ssh client: the controller's half of each per-host step (the host's half is `dhash host`).
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { FleetHostConfig } from '../../config/environments-schema.js';
import type { FleetHostOps, FleetHostOpsOptions } from './host-ops.js';

export function createHostOpsOverSsh(
  environment: ResolvedEnvironment,
  host: FleetHostConfig,
  options: FleetHostOpsOptions,
): FleetHostOps {
  void environment;
  void options;
  const pending = async (): Promise<never> => {
    throw new Error(`host ops over ssh for ${host.name} are being written (issue 12)`);
  };
  return {
    host,
    check: pending,
    stage: pending,
    activate: pending,
    rollback: pending,
    status: pending,
    writeServiceEnv: pending,
  };
}
