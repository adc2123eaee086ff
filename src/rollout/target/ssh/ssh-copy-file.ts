// copyFile for the ssh client: a local file streamed through ssh's stdin, renamed into place only once complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createError, isDhashError } from '../../../lib/errors.js';

/**
 * The remote half of copyFile, run by sh with the target, size, sha256 and mode as $1..$4. The temp name is
 * dot-prefixed beside the target (same filesystem, so mv is a rename); the EXIT trap removes it on any failure.
 */
const RECEIVE_SCRIPT = [
  'set -eu',
  'target=$1; size=$2; sum=$3; mode=$4',
  'dir=$(dirname -- "$target")',
  'tmp="$dir/.$(basename -- "$target").partial-$$"',
  'trap \'rm -f -- "$tmp"\' EXIT',
  'if [ -n "$mode" ]; then umask 077; fi',
  'cat > "$tmp"',
  'got=$(wc -c < "$tmp" | tr -d " ")',
  'if [ "$got" != "$size" ]; then echo "received $got of $size bytes" >&2; exit 97; fi',
  'got=$(sha256sum < "$tmp" | cut -d " " -f 1)',
  'if [ "$got" != "$sum" ]; then echo "sha256 $got, expected $sum" >&2; exit 98; fi',
  'if [ -n "$mode" ]; then chmod "$mode" "$tmp"; fi',
  'sync -- "$tmp"',
  'mv -f -- "$tmp" "$target"',
  'trap - EXIT',
  // The rename is durable once the folder is synced too; a failure here leaves the complete file in place.
  'sync -- "$dir" 2>/dev/null || true',
].join('\n');

export interface SshCopyResult {
  bytes: number;
  /** Hex sha256 of what the host now holds under the final name. */
  sha256: string;
}

/** The client's run: argv on the host, stdin streamed; throws coded errors for ssh's own failures. */
type RunOnHost = (
  argv: readonly string[],
  options: { stdin: Readable },
) => Promise<{ exitCode: number; stderr: string }>;

export async function copyFileOverSsh(job: {
  run: RunOnHost;
  hostName: string;
  localPath: string;
  remotePath: string;
  mode: number | undefined;
}): Promise<SshCopyResult> {
  const { bytes, sha256 } = await hashLocalFile(job.localPath).catch((error: Error) => {
    throw createError('ESSHCOPYFAILED', { ...describeCopy(job), reason: `cannot read it: ${error.message}` }, error);
  });
  const mode = job.mode === undefined ? '' : job.mode.toString(8).padStart(4, '0');
  const argv = ['sh', '-c', RECEIVE_SCRIPT, 'dhash-receive', job.remotePath, String(bytes), sha256, mode];
  let result: { exitCode: number; stderr: string };
  try {
    result = await job.run(argv, { stdin: createReadStream(job.localPath) });
  } catch (error) {
    if (isDhashError(error)) throw error;
    throw createError('ESSHCOPYFAILED', { ...describeCopy(job), reason: (error as Error).message }, error);
  }
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').pop() || `the receiving shell exited ${result.exitCode}`;
    throw createError('ESSHCOPYFAILED', { ...describeCopy(job), reason });
  }
  return { bytes, sha256 };
}

function describeCopy(job: { hostName: string; localPath: string; remotePath: string }) {
  return { host: job.hostName, localPath: job.localPath, remotePath: job.remotePath };
}

/** Size and sha256 read before sending: the remote side refuses to rename anything else into place. */
async function hashLocalFile(localPath: string): Promise<{ bytes: number; sha256: string }> {
  const info = await stat(localPath);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(localPath)) hash.update(chunk as Buffer);
  return { bytes: info.size, sha256: hash.digest('hex') };
}
