// FleetHostOps.check: ssh and the host key, node, the root and its free disk, read-only, in two ssh round trips.
import type { FleetHostConfig } from '../../config/environments-schema.js';
import type { HostReachability } from './host-ops.js';
import type { SshClient } from './ssh-client.js';

/**
 * $1 node, $2 root. Prints three lines: node's version (or `missing: <why>`), the nearest existing folder of the root
 * and whether it is writable, and `df -Pk` of it (available KiB in the fourth column). Changes nothing.
 */
const PROBE_SCRIPT = [
  'node=$1; root=$2',
  'v=$("$node" -e "process.stdout.write(process.versions.node)" 2>&1) && echo "node $v" || echo "missing: $v"',
  'd=$root; while [ ! -e "$d" ]; do d=$(dirname -- "$d"); done',
  '[ -d "$d" ] && [ -w "$d" ] && echo "root writable $d" || echo "root unwritable $d"',
  'df -Pk -- "$d" | tail -n 1',
].join('\n');

type Check = HostReachability['checks'][number];

/** See FleetHostOps.check. Never throws for a host problem. */
export async function checkHostReadiness(input: {
  client: SshClient;
  host: FleetHostConfig;
  nodePath: string;
  minFreeDiskMb: number;
}): Promise<HostReachability> {
  const { client, host } = input;
  const checks: Check[] = [];
  const ssh = await client.check();
  checks.push({ name: 'host:ssh', ok: ssh.isOk, detail: ssh.detail });
  if (!ssh.isOk) return { host: host.name, ok: false, checks, code: ssh.error?.code ?? 'EHOSTUNREACHABLE' };
  let lines: string[];
  try {
    const probe = await client.run(['sh', '-c', PROBE_SCRIPT, 'dhash-check', input.nodePath, host.root], {
      timeoutMs: 30_000,
    });
    lines = probe.stdout.trim().split('\n');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'EHOSTUNREACHABLE';
    checks.push({ name: 'host:node', ok: false, detail: (error as Error).message });
    return { host: host.name, ok: false, checks, code };
  }
  const node = checkNode(lines[0] ?? '', input.nodePath);
  const root = checkRoot(lines[1] ?? '', host.root);
  const disk = checkDisk(lines[2] ?? '', host.root, input.minFreeDiskMb);
  checks.push(node.check, root, disk.check);
  const firstCode = !node.check.ok
    ? 'EHOSTNODEMISSING'
    : !root.ok
      ? 'EHOSTCOMMANDFAILED'
      : !disk.check.ok
        ? 'ENOSPACE'
        : undefined;
  return {
    host: host.name,
    ok: firstCode === undefined,
    checks,
    ...(firstCode ? { code: firstCode } : {}),
    ...(node.version ? { nodeVersion: node.version } : {}),
    ...(disk.freeMb !== undefined ? { freeDiskMb: disk.freeMb } : {}),
  };
}

/**
 * The release's native modules (better-sqlite3) are built for the controller's node: another major would not load
 * them, so the host must run the same major.
 */
function checkNode(line: string, nodePath: string): { check: Check; version?: string } {
  const version = /^node (\d+\.\d+\.\d+)/.exec(line)?.[1];
  if (!version)
    return {
      check: { name: 'host:node', ok: false, detail: `\`${nodePath}\` does not run: ${line.slice(8) || line}` },
    };
  const wanted = process.versions.node.split('.')[0];
  const ok = version.split('.')[0] === wanted;
  const detail = ok
    ? `node ${version} at \`${nodePath}\``
    : `node ${version} at \`${nodePath}\`, but releases are built for node ${wanted}.x`;
  return { check: { name: 'host:node', ok, detail }, version };
}

function checkRoot(line: string, root: string): Check {
  const match = /^root (writable|unwritable) (.*)$/.exec(line);
  if (!match) return { name: 'host:root', ok: false, detail: `could not inspect ${root}: ${line}` };
  const where = match[2] === root ? root : `${match[2]} (${root} does not exist yet)`;
  return { name: 'host:root', ok: match[1] === 'writable', detail: `${where} is ${match[1]}` };
}

function checkDisk(line: string, root: string, minFreeDiskMb: number): { check: Check; freeMb?: number } {
  const availableKb = Number(line.trim().split(/\s+/)[3]);
  if (!Number.isFinite(availableKb))
    return { check: { name: 'host:disk', ok: false, detail: `could not read free space (df said: ${line})` } };
  const freeMb = Math.floor(availableKb / 1024);
  const ok = freeMb >= minFreeDiskMb;
  return {
    check: { name: 'host:disk', ok, detail: `${freeMb} MB free under ${root} (needs ${minFreeDiskMb} MB)` },
    freeMb,
  };
}
