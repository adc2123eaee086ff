// Parses the Prometheus text exposition format into samples {name, labels, value}: enough for the dhash /metrics page.
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;

const parseValue = (text: string): number => {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
};

/** Every sample line of `text`; comment and blank lines are skipped, a malformed line throws naming its number. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`metrics line ${i + 1} is not in the Prometheus text format: ${line.slice(0, 80)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let lm: RegExpExecArray | null;
      while (LABEL.lastIndex < m[2].length && (lm = LABEL.exec(m[2]))) {
        labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const value = parseValue(m[3]);
    // prom-client writes NaN as `Nan` (lib/util.js getValueAsString); Prometheus itself parses any case, so do we.
    if (Number.isNaN(value) && m[3].toLowerCase() !== 'nan')
      throw new Error(`metrics line ${i + 1} has a value that is not a number: ${m[3]}`);
    samples.push({ name: m[1], labels, value });
  });
  return samples;
}

/** Sum of the samples named `name` whose labels include `match`; undefined when none exist. */
export function sumSamples(
  samples: PromSample[],
  name: string,
  match: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name !== name || !Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

/** The cumulative buckets of histogram `name` summed over other labels, sorted by upper bound (seconds). */
export function getHistogramBuckets(samples: PromSample[], name: string): { le: number; count: number }[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}
