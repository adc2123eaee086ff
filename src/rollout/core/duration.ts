// Parses and formats the human durations used in config and flags ("30s", "10m", "1h", "5m 30s").
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;

/**
 * Returns milliseconds, or undefined when `text` is not a sequence of `<number><unit>` parts (units ms, s, m, h, d).
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let total = 0;
  let index = 0;
  PART.lastIndex = 0;
  while (index < trimmed.length) {
    while (trimmed[index] === ' ') index++;
    if (index >= trimmed.length) break;
    PART.lastIndex = index;
    const m = PART.exec(trimmed);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
    index = PART.lastIndex;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The expected form, for error messages. */
export const DURATION_FORM = 'a duration such as "30s", "10m", "1h" or "5m 30s" (units ms, s, m, h, d)';

/** Formats milliseconds as the largest whole units, e.g. 330000 → "5m 30s", 1500 → "1.5s". */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join(' ');
}
