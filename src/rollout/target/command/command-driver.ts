// The `command` target: operator-supplied shell commands for start, stop and status, each bounded by a timeout.
import { spawn } from 'node:child_process';
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { TargetConfig } from '../../config/environments-schema.js';
import { createError } from '../../../lib/errors.js';
import type { TargetDriver, TargetDriverOptions } from '../target-driver.js';

export const COMMAND_TARGET_TYPE = 'command';

/** Runs `sh -c command`; resolves with the exit code (124 on timeout, after killing the command's process group). */
export function runShellCommand(
  command: string,
  processEnv: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<{ code: number; output: string; isTimedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: processEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let isTimedOut = false;
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => {
      isTimedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, output: error.message, isTimedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: isTimedOut ? 124 : (code ?? 1), output: output.slice(-4000), isTimedOut });
    });
  });
}

export function createCommandDriver(
  environment: ResolvedEnvironment,
  target: Extract<TargetConfig, { type: 'command' }>,
  options: TargetDriverOptions,
): TargetDriver {
  // The commands learn where things are from variables rather than from string templating (no quoting surprises).
  const env = {
    ...(options.processEnv ?? {}),
    DHASH_ENV: environment.name,
    DHASH_ROOT: environment.root,
    DHASH_CURRENT: environment.currentLink,
    DHASH_HOST: environment.host,
    DHASH_PORT: String(environment.port),
    DHASH_DB: environment.databaseFile,
    DHASH_NODE: process.execPath,
  };
  const runOrThrow = async (action: 'start' | 'stop', command: string) => {
    const result = await runShellCommand(command, env, target.timeoutMs);
    if (result.code !== 0) {
      const reason = result.isTimedOut
        ? `\`${command}\` timed out after ${target.timeoutMs} ms`
        : `\`${command}\` exited ${result.code}: ${result.output.trim()}`;
      throw createError('ETARGETFAILED', { target: COMMAND_TARGET_TYPE, action, reason });
    }
    options.logger.info(`target command ${action} succeeded`, { command });
  };
  const driver: TargetDriver = {
    type: COMMAND_TARGET_TYPE,
    async status() {
      const result = await runShellCommand(target.status, env, target.timeoutMs);
      const output = result.output.trim();
      return {
        isRunning: result.code === 0,
        detail: `status command exited ${result.code}${output ? `: ${output.slice(0, 200)}` : ''}`,
      };
    },
    async start() {
      await runOrThrow('start', target.start);
      return driver.status();
    },
    async stop() {
      await runOrThrow('stop', target.stop);
    },
    async restart() {
      await driver.stop();
      return driver.start();
    },
    async check() {
      return {
        ok: true,
        detail: `command driver: start \`${target.start}\`, stop \`${target.stop}\`, status \`${target.status}\``,
      };
    },
  };
  return driver;
}
