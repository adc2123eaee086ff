// Reads why ssh itself failed (exit 255 and its stderr) and names it with a coded error; remote failures pass through.
import { createError, type DhashError } from '../../../lib/errors.js';
import type { FleetHostConfig } from '../../config/environments-schema.js';
import { describeKnownHostsFile, getDeadLinkSeconds, getKnownHostsName, type SshSettings } from './ssh-args.js';

export interface SshFailureContext {
  host: FleetHostConfig;
  settings: SshSettings;
  /** The remote command as shown to people (quoted, shortened). */
  command: string;
}

/** ssh's exit status for its own errors; a remote command may also exit 255, told apart by stderr. */
export const SSH_FAILURE_EXIT_CODE = 255;

const CHANGED_KEY = /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/;
const UNKNOWN_KEY = /No \S+ host key is known for|Host key verification failed/;
const AUTH_FAILED = /Permission denied \(|Too many authentication failures|Authentication failed/;
const BAD_CONFIG = new RegExp(
  [
    "Can't open user config file",
    'Bad configuration option',
    'no argument after keyword',
    'Unsupported option',
    'command-line line \\d+:',
  ].join('|'),
);
// Refused, silent, unroutable or unresolvable, or dropped before the login (sshd overloaded, a firewall reset).
const UNREACHABLE = new RegExp(
  [
    'Connection refused',
    'Connection timed out',
    'No route to host',
    'Network is unreachable',
    'Host is down',
    'Could not resolve hostname',
    'Name or service not known',
    'timed out during banner exchange',
    'Connection to \\S+ port \\d+ timed out',
    'kex_exchange_identification',
    'Connection closed by \\S+ port \\d+$',
  ].join('|'),
  'm',
);
// The session was up and then died: the remote command may or may not have finished.
const CONNECTION_LOST = new RegExp(
  [
    'Timeout, server \\S+ not responding',
    'Connection reset by',
    'Broken pipe',
    'client_loop: send disconnect',
    'packet_write_wait',
    'closed by remote host',
  ].join('|'),
);

/** The stderr line that says what happened, without ssh's `ssh: ` prefix. */
function findReason(stderr: string, pattern: RegExp): string {
  const line = stderr.split('\n').find((l) => pattern.test(l)) ?? stderr.trim().split('\n').pop() ?? '';
  // ssh ends its lines with \r\n; the period goes too, since the messages add their own.
  return line
    .trim()
    .replace(/^ssh: /, '')
    .replace(/\.$/, '');
}

/**
 * The coded error for a failed ssh (exit 255), or null when stderr shows nothing of ssh's own: then the 255 came
 * from the remote command and is returned as its exit code. A changed key is checked before an unknown one, since
 * ssh ends both with "Host key verification failed".
 */
export function classifySshFailure(stderr: string, context: SshFailureContext): DhashError | null {
  const { host, settings } = context;
  const where = { host: host.name, address: host.address, port: host.port };
  if (CHANGED_KEY.test(stderr)) {
    const offered = /key sent by the remote host is\s*(SHA256:[A-Za-z0-9+/]+)/.exec(stderr)?.[1];
    const offending = /Offending \S+ key in (\S+:\d+)/.exec(stderr)?.[1];
    return createError('EHOSTKEYCHANGED', {
      ...where,
      knownHostsName: getKnownHostsName(host),
      knownHostsFile: describeKnownHostsFile(settings),
      offeredFingerprint: offered ?? null,
      offendingEntry: offending ?? null,
    });
  }
  if (UNKNOWN_KEY.test(stderr)) {
    return createError('EHOSTKEYUNKNOWN', {
      ...where,
      knownHostsName: getKnownHostsName(host),
      knownHostsFile: describeKnownHostsFile(settings),
    });
  }
  if (AUTH_FAILED.test(stderr)) {
    return createError('ESSHAUTHFAILED', {
      ...where,
      user: host.user ?? null,
      identityFile: settings.identityFile ?? null,
      reason: findReason(stderr, AUTH_FAILED),
    });
  }
  if (BAD_CONFIG.test(stderr)) {
    return createError('ESSHCONFIGINVALID', {
      host: host.name,
      configFile: settings.configFile ?? null,
      reason: findReason(stderr, BAD_CONFIG),
    });
  }
  if (UNREACHABLE.test(stderr)) {
    return createError('EHOSTUNREACHABLE', {
      ...where,
      reason: findReason(stderr, UNREACHABLE),
      connectTimeoutSeconds: settings.connectTimeoutSeconds,
    });
  }
  if (CONNECTION_LOST.test(stderr)) {
    return createError('ESSHCONNECTIONLOST', {
      ...where,
      command: context.command,
      reason: findReason(stderr, CONNECTION_LOST),
      deadLinkSeconds: getDeadLinkSeconds(settings),
    });
  }
  return null;
}
