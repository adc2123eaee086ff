// Staging a release artifact on a fleet host before any dhash is there: copy, `sha256sum -c`, tar into a temp folder
// under releases/, rename; then the staged release verifies itself. And the service.env write, over stdin.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createError, isDhashError } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logger.js';
import type { HostVerifyReport } from '../../host/host-report.js';
import { formatServiceEnv } from '../../host/service-env.js';
import type { HostCli } from './host-ops-cli.js';
import type { StageArtifact } from './host-ops.js';
import type { SshClient } from './ssh-client.js';

/** Exit codes of the remote scripts below, so the controller tells a damaged artifact from a failed shell. */
const EXIT_CHECKSUM = 90;
const EXIT_LAYOUT = 91;

/**
 * $1 root, $2 release id, $3 artifact file name in incoming/. Verifies the artifact against its .sha256 with the
 * system's sha256sum, unpacks it into a hidden temp folder under releases/ (same filesystem: the rename is atomic)
 * and renames its one top folder to releases/<id>. The EXIT trap removes the temp folder and the incoming files.
 */
const UNPACK_SCRIPT = [
  'set -eu',
  'root=$1; id=$2; name=$3',
  'tmp=$(mktemp -d "$root/releases/.stage-$id-XXXXXX")',
  'trap \'rm -rf -- "$tmp"; rm -f -- "$root/incoming/$name" "$root/incoming/$name.sha256"\' EXIT',
  `(cd "$root/incoming" && sha256sum -c --quiet -- "$name.sha256" >&2) || exit ${EXIT_CHECKSUM}`,
  'tar -xzf "$root/incoming/$name" -C "$tmp" --no-same-owner',
  `[ "$(ls -A "$tmp")" = "$id" ] || { echo "its top folder is not $id: $(ls -A "$tmp")" >&2; exit ${EXIT_LAYOUT}; }`,
  // -T: never move into an existing folder of that name (a concurrent stage); then it fails instead.
  'mv -T -- "$tmp/$id" "$root/releases/$id"',
].join('\n');

/** $1 the file. umask 077 before anything is created, so the secrets are never readable by others, not even briefly. */
const WRITE_ENV_SCRIPT = [
  'set -eu',
  'umask 077',
  'file=$1; dir=$(dirname -- "$file")',
  'mkdir -p -- "$dir"',
  'tmp="$dir/.$(basename -- "$file").tmp-$$"',
  'trap \'rm -f -- "$tmp"\' EXIT',
  'cat > "$tmp"',
  'chmod 600 -- "$tmp"',
  'sync -- "$tmp" 2>/dev/null || true',
  'mv -f -- "$tmp" "$file"',
  'trap - EXIT',
].join('\n');

export interface StageDeps {
  client: SshClient;
  cli: HostCli;
  hostName: string;
  root: string;
  logger: Logger;
}

/** See FleetHostOps.stage. */
export async function stageArtifactOnHost(deps: StageDeps, artifact: StageArtifact): Promise<void> {
  const { client, cli, hostName, root, logger } = deps;
  const { releaseId } = artifact;
  if (await isAlreadyStaged(deps, releaseId)) {
    logger.info(`releases/${releaseId} is already staged on ${hostName} and verifies`, { host: hostName, releaseId });
    return;
  }
  await assertLocalSha256(artifact);
  const name = basename(artifact.path);
  await client.runChecked(['mkdir', '-p', '--', `${root}/incoming`, `${root}/releases`]);
  const copied = await client.copyFile(artifact.path, `${root}/incoming/${name}`);
  if (copied.sha256 !== artifact.sha256)
    throw createError('ECHECKSUMMISMATCH', { file: artifact.path, expected: artifact.sha256, actual: copied.sha256 });
  await client.copyFile(`${artifact.path}.sha256`, `${root}/incoming/${name}.sha256`);
  const unpack = await client.run(['sh', '-c', UNPACK_SCRIPT, 'dhash-stage', root, releaseId, name]);
  if (unpack.exitCode === EXIT_CHECKSUM)
    throw createError('ECHECKSUMMISMATCH', {
      file: `${hostName}:${root}/incoming/${name}`,
      expected: artifact.sha256,
      actual: `something else (sha256sum -c: ${unpack.stderr.trim().split('\n').pop() ?? 'FAILED'})`,
    });
  if (unpack.exitCode !== 0)
    throw createError('EHOSTCOMMANDFAILED', {
      host: hostName,
      step: `unpacking ${name} into ${root}/releases/${releaseId}`,
      exitCode: unpack.exitCode,
      stderr: unpack.stderr,
    });
  try {
    await cli.call<HostVerifyReport>(releaseId, 'verify-release', ['--release', releaseId], { timeoutMs: 120_000 });
  } catch (error) {
    // Never leave a release that does not verify under a release name (it is not current: it was not staged).
    await client.run(['rm', '-rf', '--', `${root}/releases/${releaseId}`]).catch(() => undefined);
    throw error;
  }
  logger.info(`staged releases/${releaseId} on ${hostName}`, { host: hostName, releaseId, bytes: copied.bytes });
}

/**
 * Whether releases/<id> is there and verifies with its own CLI. One that is there but does not verify is removed
 * (it is re-staged), unless it is `current`: then its error is thrown, since the serving release is never deleted.
 */
async function isAlreadyStaged(deps: StageDeps, releaseId: string): Promise<boolean> {
  const { client, cli, root } = deps;
  const dir = `${root}/releases/${releaseId}`;
  const probe = await client.run(['test', '-f', `${dir}/release.json`]);
  if (probe.exitCode !== 0) return false;
  try {
    await cli.call<HostVerifyReport>(releaseId, 'verify-release', ['--release', releaseId], { timeoutMs: 120_000 });
    return true;
  } catch (error) {
    if (!isDhashError(error)) throw error;
    const current = await client.run(['readlink', '--', `${root}/current`]);
    if (current.stdout.trim().split('/').pop() === releaseId) throw error;
    deps.logger.warn(`releases/${releaseId} on ${deps.hostName} does not verify; staging it again`, {
      host: deps.hostName,
      releaseId,
      code: error.code,
    });
    await client.runChecked(['rm', '-rf', '--', dir]);
    return false;
  }
}

/** The artifact's .sha256 names the digest the orchestrator expects: a different one is a different artifact. */
async function assertLocalSha256(artifact: StageArtifact): Promise<void> {
  const file = `${artifact.path}.sha256`;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw createError('ECHECKSUMMISSING', { file: artifact.path });
  const recorded = /^([0-9a-f]{64})\b/i.exec(text.trim())?.[1]?.toLowerCase();
  if (recorded !== artifact.sha256)
    throw createError('ECHECKSUMMISMATCH', { file, expected: artifact.sha256, actual: recorded ?? '(no digest)' });
}

/** See FleetHostOps.writeServiceEnv. */
export async function writeServiceEnvOnHost(
  deps: Pick<StageDeps, 'client' | 'hostName' | 'root' | 'logger'>,
  vars: Record<string, string>,
): Promise<void> {
  const file = `${deps.root}/shared/service.env`;
  const text = formatServiceEnv(vars);
  const result = await deps.client.run(['sh', '-c', WRITE_ENV_SCRIPT, 'dhash-service-env', file], { stdin: text });
  if (result.exitCode !== 0)
    throw createError('EHOSTCOMMANDFAILED', {
      host: deps.hostName,
      step: `writing ${file}`,
      exitCode: result.exitCode,
      stderr: result.stderr,
    });
  // The names only: the values are the secrets.
  deps.logger.info(`wrote ${file} on ${deps.hostName}`, { host: deps.hostName, variables: Object.keys(vars) });
}
