// POSIX shell quoting for remote commands: sshd hands the command line to the login shell, which splits it again.

/** Words made only of these characters mean the same quoted or not, so they stay readable in logs. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument as a shell word: safe words as they are, anything else single-quoted (`'` becomes `'\''`). */
export function quoteShellArgument(argument: string): string {
  if (argument.includes('\0')) {
    throw new TypeError(`a remote argument cannot contain a NUL byte: ${JSON.stringify(argument)}`);
  }
  if (SAFE_WORD.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** An argv as one command line that a POSIX shell splits back into exactly that argv. */
export function quoteShellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('a remote command needs at least one word');
  return argv.map(quoteShellArgument).join(' ');
}
