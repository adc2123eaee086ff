// The fixed CLI exit codes of ARCHITECTURE.md: operators and scripts branch on these numbers.
export const ExitCode = {
  /** The operation succeeded. */
  OK: 0,
  /** The operation failed and the previous release is serving (rolled back, switched back, smoke test failed). */
  FAILED: 1,
  /** Bad usage or bad configuration; nothing changed. */
  USAGE: 2,
  /** Refused for safety; nothing changed (lock held, checksum mismatch, wrong environment). */
  REFUSED: 3,
  /** Rollback failed or was blocked: a human must act. */
  HUMAN_NEEDED: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table printed at the end of every `--help`. */
export const EXIT_CODE_HELP = [
  'Exit codes:',
  '  0  success',
  '  1  the operation failed and the previous release is serving (rolled back, switched back, smoke test failed)',
  '  2  bad usage or bad configuration, nothing changed',
  '  3  refused for safety, nothing changed (lock held, checksum mismatch, wrong environment)',
  '  4  rollback failed or was blocked: a human must act',
].join('\n');
