// test_logging: every JSON log line of every component parses, carries the required fields, and holds no secret.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface LogFileCheck {
  file: string;
  lines: number;
  jsonLines: number;
  problems: string[];
  components: string[];
}

/**
 * A line is checked as JSON when it starts with `{` (tool output such as the service's pino lines or the
 * toolkit's JSON logger); other lines are plain text from the same file and are only searched for secrets.
 * Required: `time`, `level`, and `component` or `msg` (pino lines carry `msg`; toolkit lines carry both).
 */
export async function checkLogFile(
  file: string,
  secrets: string[],
  options: { isSecretScanOnly?: boolean } = {},
): Promise<LogFileCheck> {
  const text = await readFile(file, 'utf8');
  const problems: string[] = [];
  const components = new Set<string>();
  let lines = 0;
  let jsonLines = 0;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    lines++;
    for (const secret of secrets) if (line.includes(secret)) problems.push(`line ${i + 1}: contains a secret value`);
    // Data files (poll lines, outbox messages, reports) are not logs: they are only searched for secrets.
    if (options.isSecretScanOnly || !line.trimStart().startsWith('{')) return;
    jsonLines++;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`line ${i + 1}: not valid JSON`);
      return;
    }
    if (parsed.time === undefined) problems.push(`line ${i + 1}: no \`time\``);
    if (parsed.level === undefined) problems.push(`line ${i + 1}: no \`level\``);
    if (parsed.component === undefined && parsed.msg === undefined)
      problems.push(`line ${i + 1}: neither \`component\` nor \`msg\``);
    if (typeof parsed.component === 'string') components.add(parsed.component);
  });
  return { file, lines, jsonLines, problems, components: [...components].sort() };
}

export function formatLogChecks(checks: LogFileCheck[], shown: (file: string) => string = basename): string {
  const out: string[] = [];
  for (const c of checks) {
    out.push(
      `${c.problems.length === 0 ? 'PASS' : 'FAIL'} ${shown(c.file)}: ` +
        `${c.lines} lines, ${c.jsonLines} JSON lines checked` +
        `${c.components.length ? `; components ${c.components.join(', ')}` : ''}`,
    );
    for (const p of c.problems.slice(0, 20)) out.push(`     ${p}`);
    if (c.problems.length > 20) out.push(`     … and ${c.problems.length - 20} more`);
  }
  const failed = checks.filter((c) => c.problems.length > 0).length;
  out.push(
    failed === 0
      ? `test_logging: PASS (${checks.length} files)`
      : `test_logging: FAIL (${failed} of ${checks.length} files)`,
  );
  return out.join('\n') + '\n';
}
