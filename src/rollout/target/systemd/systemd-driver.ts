// The `systemd` target: writes shared/service.env and the unit file into unitDir, and drives
// `systemctl daemon-reload/restart/stop/is-active`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { TargetConfig } from '../../config/environments-schema.js';
import { createError } from '../../../lib/errors.js';
import { writeFileAtomic } from '../../../lib/atomic-file.js';
import { getServeArgs, type TargetDriver, type TargetDriverOptions } from '../target-driver.js';
import { renderSystemdUnit } from './render-unit.js';
import { getServiceEnvFile } from '../../host/service-env.js';
import { prepareServiceEnv, writeServiceEnv } from './service-environment.js';

export const SYSTEMD_TARGET_TYPE = 'systemd';
const SYSTEMCTL_TIMEOUT_MS = 90_000;

export type CommandRunner = (
  file: string,
  args: string[],
  timeoutMs: number,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Runs a binary without a shell; a non-zero exit is a result, not an exception. */
export const runCommand: CommandRunner = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error
        ? typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : 127
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error && code === 127 ? error.message : '') });
    });
  });

export function getUnitText(
  environment: ResolvedEnvironment,
  target: Extract<TargetConfig, { type: 'systemd' }>,
): string {
  return renderSystemdUnit({
    envName: environment.name,
    nodePath: process.execPath,
    currentLink: environment.currentLink,
    serveArgs: getServeArgs(environment),
    logFile: join(environment.logsDir, 'service.log'),
    user: target.user,
    stopTimeoutSec: 15,
    environment: { NODE_ENV: 'production', DHASH_ENV: environment.name },
    // The secrets (database URL, API tokens) are only in this 0600 file, never in the unit's text or argv.
    environmentFile: getServiceEnvFile(environment),
  });
}

export function createSystemdDriver(
  environment: ResolvedEnvironment,
  target: Extract<TargetConfig, { type: 'systemd' }>,
  options: TargetDriverOptions & { run?: CommandRunner },
): TargetDriver {
  const run = options.run ?? runCommand;
  const unitFile = join(target.unitDir, target.unitName);
  const systemctl = async (...args: string[]) => {
    const result = await run('systemctl', args, SYSTEMCTL_TIMEOUT_MS);
    if (result.code !== 0 && args[0] !== 'is-active') {
      throw createError('ETARGETFAILED', {
        target: SYSTEMD_TARGET_TYPE,
        action: args[0],
        reason: `systemctl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`,
      });
    }
    return result;
  };
  const processEnv = options.processEnv ?? process.env;
  /**
   * Before every start: shared/service.env (what the service needs, 0600), then the unit, rewritten only when it
   * changed and followed by a reload so systemd sees the new text. A failure throws before the service is touched.
   */
  const installUnit = async () => {
    const serviceEnv = await writeServiceEnv(environment, processEnv);
    if (serviceEnv.isChanged)
      options.logger.info(`wrote ${serviceEnv.file} (${serviceEnv.names.join(', ') || 'no variables'})`, {
        file: serviceEnv.file,
        names: serviceEnv.names,
      });
    const text = getUnitText(environment, target);
    const existing = existsSync(unitFile) ? await readFile(unitFile, 'utf8') : undefined;
    if (existing === text) return;
    await writeFileAtomic(unitFile, text);
    await systemctl('daemon-reload');
    options.logger.info(`wrote ${unitFile} and reloaded systemd`, { unitFile });
  };
  const driver: TargetDriver = {
    type: SYSTEMD_TARGET_TYPE,
    async status() {
      const result = await systemctl('is-active', target.unitName);
      const state = result.stdout.trim() || 'unknown';
      return { isRunning: state === 'active', detail: `${target.unitName} is ${state}` };
    },
    async start() {
      await installUnit();
      await systemctl('start', target.unitName);
      return driver.status();
    },
    async stop() {
      await systemctl('stop', target.unitName);
    },
    async restart() {
      await installUnit();
      await systemctl('restart', target.unitName);
      return driver.status();
    },
    async check() {
      const probe = await run('systemctl', ['--version'], 10_000);
      if (probe.code !== 0)
        return { ok: false, detail: `systemctl is not usable here: ${probe.stderr.trim() || `exit ${probe.code}`}` };
      try {
        await access(target.unitDir, constants.W_OK);
      } catch {
        return {
          ok: false,
          detail: `cannot write unit files into ${target.unitDir} (set target.unitDir or run as a user who can)`,
        };
      }
      try {
        const { file, vars } = await prepareServiceEnv(environment, processEnv);
        const names = Object.keys(vars).join(', ') || 'no variables';
        return { ok: true, detail: `systemd driver usable; unit ${unitFile}, ${file} (${names})` };
      } catch (error) {
        const e = error as Error & { details?: string };
        return { ok: false, detail: `${e.message}${e.details ? ` ${e.details}` : ''}` };
      }
    },
  };
  return driver;
}
