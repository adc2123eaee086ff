// Every user-facing error of the toolkit: one definition per code, a one-sentence message, details with the next action.
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

export interface ErrorDefinition {
  message: string;
  /** What was found, the offending value, and the next action (a command to run or a setting to change). */
  details: string;
  exitCode: ExitCodeValue;
}

export class DhashError extends Error {
  readonly code: string;
  readonly details: string;
  readonly exitCode: ExitCodeValue;
  constructor(code: string, def: ErrorDefinition, cause?: unknown) {
    super(def.message, cause === undefined ? undefined : { cause });
    this.name = 'DhashError';
    this.code = code;
    this.details = def.details;
    this.exitCode = def.exitCode;
  }
}

export function isDhashError(error: unknown, code?: string): error is DhashError {
  return error instanceof DhashError && (code === undefined || error.code === code);
}

const describe = (value: unknown): string =>
  value === undefined ? 'nothing' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\` (${typeof value})`;

/**
 * The definitions. Add new codes here (keep them alphabetical within their area) rather than
 * building messages at the throw site, so wording stays consistent and testable.
 */
export const ERRORS = {
  // ── usage and configuration (exit 2) ──
  EINVALIDOPTION: (c: { option: string; expected: string; actual: unknown }) => ({
    message: `Expected the \`${c.option}\` option to be ${c.expected}, got ${describe(c.actual)}.`,
    details: `Run the command with --help to see the accepted values of ${c.option}.`,
    exitCode: ExitCode.USAGE,
  }),
  EINVALIDCONFIG: (c: { file: string; problems: { path: string; message: string }[] }) => ({
    message: `The configuration file ${c.file} is invalid (${c.problems.length} problem${c.problems.length === 1 ? '' : 's'}).`,
    details: `${c.problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n')}\nFix these entries in ${c.file}, then run \`npx dhash config check\`.`,
    exitCode: ExitCode.USAGE,
  }),
  ECONFIGNOTFOUND: (c: { file: string }) => ({
    message: `The configuration file ${c.file} does not exist.`,
    details: `Run the command from the repository root, or restore ${c.file} from git (\`git checkout -- ${c.file}\`).`,
    exitCode: ExitCode.USAGE,
  }),
  ECONFIGPARSE: (c: { file: string; reason: string }) => ({
    message: `The configuration file ${c.file} is not valid JSON.`,
    details: `The parser said: ${c.reason}. Fix the syntax, then run \`npx dhash config check\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EUNKNOWNENV: (c: { env: string; known: string[] }) => ({
    message: `Unknown environment \`${c.env}\` given to --env.`,
    details: `Known environments: ${c.known.join(', ')}. Add one under "environments" in environments.json to deploy elsewhere.`,
    exitCode: ExitCode.USAGE,
  }),

  // ── safety refusals (exit 3) ──
  ELOCKED: (c: { env: string; lockFile: string; holder: string }) => ({
    message: `Another deploy or rollback of \`${c.env}\` is in progress (${c.holder}).`,
    details: `Wait for it to finish. If you are sure it is gone, remove ${c.lockFile} and run the command again.`,
    exitCode: ExitCode.REFUSED,
  }),
  ECHECKSUMMISMATCH: (c: { file: string; expected: string; actual: string }) => ({
    message: `The checksum of ${c.file} does not match its recorded sha256.`,
    details: `Expected ${c.expected}, computed ${c.actual}. The file is corrupt or was changed; pick another backup (\`npx dhash backup list --env <env>\`).`,
    exitCode: ExitCode.REFUSED,
  }),

  // ── a human must act (exit 4) ──
  ENOPREVIOUSRELEASE: (c: { env: string }) => ({
    message: `There is no previous release of \`${c.env}\` to return to.`,
    details: `Restore from a backup with \`./scripts/rollback_dhash.sh --backup <zip> --env ${c.env}\`, or deploy a known-good release.`,
    exitCode: ExitCode.HUMAN_NEEDED,
  }),
} satisfies Record<string, (ctx: any) => ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

/** Builds the coded error; keep the original error as `cause`. */
export function createError<C extends ErrorCode>(
  code: C,
  context: Parameters<(typeof ERRORS)[C]>[0],
  cause?: unknown,
): DhashError {
  const define = ERRORS[code] as (ctx: unknown) => ErrorDefinition;
  return new DhashError(code, define(context), cause);
}
