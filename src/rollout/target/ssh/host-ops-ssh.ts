// FleetHostOps over the ssh client: the controller's half of each per-host step (the host's half is `dhash host`).
import { createError } from '../../../lib/errors.js';
import type { ResolvedEnvironment } from '../../config/environments.js';
import type { FleetHostConfig, SshTargetConfig } from '../../config/environments-schema.js';
import type { HostActivationReport, HostStatusReport } from '../../host/host-report.js';
import { createHostCli, type HostCli } from './host-ops-cli.js';
import { checkHostReadiness } from './host-ops-check.js';
import { stageArtifactOnHost, writeServiceEnvOnHost } from './host-ops-stage.js';
import type { ActivateOptions, FleetHostOps, FleetHostOpsOptions, HostActivation, HostStatus } from './host-ops.js';
import { createSshClient, type SshClient } from './ssh-client.js';

/**
 * $1 root, $2 node, then the status flags. Asks the current release's CLI first, then every other staged release,
 * newest first: a release whose CLI is broken (the very one being rolled away from) must not hide the host's state.
 * Prints NO_RELEASE when there is none to ask.
 */
const STATUS_SCRIPT = [
  'root=$1; node=$2; shift 2',
  'current=$(readlink -- "$root/current" 2>/dev/null | sed "s#.*/##")',
  'out=""; code=0; tried=""',
  'for rel in $current $(ls -1r -- "$root/releases" 2>/dev/null | grep -E "^[0-9]{8}T[0-9]{9}Z-"); do',
  '  [ -f "$root/releases/$rel/dist/cli/main.js" ] || continue',
  '  tried=yes',
  '  out=$("$node" "$root/releases/$rel/dist/cli/main.js" host status --root "$root" "$@" 2>/dev/null); code=$?',
  '  case "$out" in *\'"format":"dhash-host/1"\'*) printf "%s\\n" "$out"; exit 0;; esac',
  'done',
  '[ -z "$tried" ] && { echo NO_RELEASE; exit 0; }',
  'printf "%s\\n" "$out"; exit "$code"',
].join('\n');

export function createHostOpsOverSsh(
  environment: ResolvedEnvironment,
  host: FleetHostConfig,
  options: FleetHostOpsOptions,
): FleetHostOps {
  const target = getSshTarget(environment);
  const logger = options.logger.child(`host.${host.name}`);
  const client =
    options.client ??
    createSshClient(host, target.ssh, { logger, clock: options.clock, processEnv: options.processEnv });
  const cli = createHostCli(client, {
    hostName: host.name,
    root: host.root,
    nodePath: target.nodePath,
    envName: environment.name,
  });
  const deploy = environment.config.deploy;
  const serviceArgs = (opts: ActivateOptions = {}) => [
    ...['--driver', host.driver, '--bind', host.serviceAddress ?? host.address, '--port', String(environment.port)],
    ...['--healthy-checks', String(opts.healthyChecks ?? deploy.healthyChecksRequired)],
    ...['--health-timeout-ms', String(opts.healthTimeoutMs ?? deploy.healthTimeoutMs)],
    ...['--health-interval-ms', String(deploy.healthCheckIntervalMs)],
    ...['--keep', String(environment.config.releases.keep)],
  ];
  // Two health waits (the new release, then the switch-back) plus verifying and restarting: past that, ssh is stuck.
  const switchTimeoutMs = (opts: ActivateOptions = {}) =>
    2 * (opts.healthTimeoutMs ?? deploy.healthTimeoutMs) + 120_000;

  const switchRelease = async (
    releaseId: string,
    command: 'activate' | 'rollback',
    args: string[],
    opts?: ActivateOptions,
  ): Promise<HostActivation> => {
    logger.info(`${command} ${releaseId} on ${host.name}`, { host: host.name, releaseId, step: `host:${command}` });
    const { result, exitCode } = await cli.call<HostActivationReport>(
      releaseId,
      command,
      [...args, ...serviceArgs(opts)],
      {
        timeoutMs: switchTimeoutMs(opts),
      },
    );
    const log = exitCode === 0 ? logger.info : logger.error;
    log(`${command} ${releaseId} on ${host.name}: ${result.message}`, { host: host.name, releaseId, exitCode });
    return { ...result, host: host.name, exitCode };
  };

  const ops: FleetHostOps = {
    host,
    check: () =>
      checkHostReadiness({
        client,
        host,
        nodePath: target.nodePath,
        minFreeDiskMb: deploy.minFreeDiskMb,
      }),
    stage: (artifact) => stageArtifactOnHost({ client, cli, hostName: host.name, root: host.root, logger }, artifact),
    activate: (releaseId, opts) => switchRelease(releaseId, 'activate', ['--release', releaseId], opts),
    async rollback(toReleaseId, opts) {
      const to = toReleaseId ?? (await ops.status()).previousReleaseId;
      if (!to) throw createError('ENOPREVIOUSRELEASE', { env: `${environment.name} on host ${host.name}` });
      // The CLI of the release returned to: the one being left may be the broken one.
      return switchRelease(to, 'rollback', ['--to', to], opts);
    },
    status: () => getStatus(client, cli, host, target, serviceArgs()),
    writeServiceEnv: (vars) => writeServiceEnvOnHost({ client, hostName: host.name, root: host.root, logger }, vars),
  };
  return ops;
}

async function getStatus(
  client: SshClient,
  cli: HostCli,
  host: FleetHostConfig,
  target: SshTargetConfig,
  serviceArgs: string[],
): Promise<HostStatus> {
  const argv = ['sh', '-c', STATUS_SCRIPT, 'dhash-status', host.root, target.nodePath, ...serviceArgs];
  const run = await client.run(argv, { timeoutMs: 60_000 });
  if (run.exitCode === 0 && run.stdout.trim() === 'NO_RELEASE') {
    return {
      host: host.name,
      root: host.root,
      hostname: host.address,
      releaseIds: [],
      service: { driver: host.driver, isRunning: false, detail: 'no release is staged on the host' },
      journal: [],
      serviceEnv: { isPresent: false },
    };
  }
  const { result } = cli.readAnswer<HostStatusReport>(run, 'status');
  return { ...result, host: host.name };
}

function getSshTarget(environment: ResolvedEnvironment): SshTargetConfig {
  const target = environment.config.target;
  if (target.type === 'ssh') return target;
  throw createError('EINVALIDCONFIG', {
    file: 'environments.json',
    problems: [
      {
        path: `environments.${environment.name}.target.type`,
        message: `fleet host operations need the ssh target, got \`${target.type}\``,
      },
    ],
  });
}
