// The one factory switch choosing an environment's target driver by its `target.type`.
import type { ResolvedEnvironment } from '../config/environments.js';
import { createError } from '../../lib/errors.js';
import { createProcessDriver, PROCESS_TARGET_TYPE } from './process/process-driver.js';
import { createSystemdDriver, SYSTEMD_TARGET_TYPE } from './systemd/systemd-driver.js';
import { createCommandDriver, COMMAND_TARGET_TYPE } from './command/command-driver.js';
import type { TargetDriver, TargetDriverOptions } from './target-driver.js';

export function createTargetDriver(environment: ResolvedEnvironment, options: TargetDriverOptions): TargetDriver {
  const target = environment.config.target;
  switch (target.type) {
    case PROCESS_TARGET_TYPE:
      return createProcessDriver(environment, target, options);
    case SYSTEMD_TARGET_TYPE:
      return createSystemdDriver(environment, target, options);
    case COMMAND_TARGET_TYPE:
      return createCommandDriver(environment, target, options);
    case 'ssh':
      // Each host of a fleet has its own service manager, driven over ssh by the fleet rollout (src/rollout/fleet).
      throw createError('EFLEETHASNODRIVER', { env: environment.name });
    default:
      throw createError('EINVALIDCONFIG', {
        file: 'environments.json',
        problems: [
          {
            path: `environments.${environment.name}.target.type`,
            message: `unknown target type \`${(target as { type: string }).type}\`; use process, systemd or command`,
          },
        ],
      });
  }
}
