// Draws one signal over the monitor window as an inline SVG: the line, its threshold, poll ticks and event markers.
import { escapeHtml } from './escape-html.js';

export interface ChartPoint {
  atMs: number;
  value: number | null;
  verdict: string;
}

export interface ChartMarker {
  atMs: number;
  /** Optional end, for a band (the rollback). */
  untilMs?: number;
  kind: 'violation' | 'rollback' | 'warning' | 'recovered';
  label: string;
}

export interface ChartInput {
  id: string;
  title: string;
  unit: string;
  threshold: number;
  fromMs: number;
  toMs: number;
  points: ChartPoint[];
  pollTimesMs: number[];
  markers: ChartMarker[];
}

const W = 760;
const H = 200;
const M = { left: 56, right: 16, top: 22, bottom: 34 };
const VERDICT_CLASS: Record<string, string> = {
  pass: 'pass',
  warning: 'warn',
  violated: 'bad',
  'insufficient-data': 'nodata',
  error: 'nodata',
};

export function renderChartSvg(input: ChartInput): string {
  const values = input.points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const yMax = getNiceMax(Math.max(input.threshold * 1.25, ...values.map((v) => v * 1.1), 1e-9));
  const spanMs = Math.max(1, input.toMs - input.fromMs);
  const x = (t: number) => M.left + ((t - input.fromMs) / spanMs) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (Math.min(v, yMax) / yMax) * (H - M.top - M.bottom);
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];

  // Axes and grid: 4 horizontal lines with value labels, time labels in elapsed minutes:seconds.
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(y(v))}" y2="${f(y(v))}"/>`);
    parts.push(`<text class="axis" x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${formatValue(v)}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const t = input.fromMs + (spanMs * i) / 6;
    parts.push(
      `<text class="axis" x="${f(x(t))}" y="${H - 6}" text-anchor="middle">+${formatElapsed(t - input.fromMs)}</text>`,
    );
  }
  // Bands and markers behind the data.
  for (const m of input.markers.filter((m) => m.untilMs !== undefined)) {
    parts.push(
      `<rect class="band ${m.kind}-band" x="${f(x(m.atMs))}" y="${M.top}" ` +
        `width="${f(Math.max(2, x(m.untilMs!) - x(m.atMs)))}" height="${H - M.top - M.bottom}">` +
        `<title>${escapeHtml(m.label)}</title></rect>`,
    );
  }
  for (const t of input.pollTimesMs) {
    parts.push(
      `<line class="poll-tick" x1="${f(x(t))}" x2="${f(x(t))}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}"/>`,
    );
  }
  parts.push(
    `<line class="threshold" x1="${M.left}" x2="${W - M.right}" ` +
      `y1="${f(y(input.threshold))}" y2="${f(y(input.threshold))}"/>`,
  );
  parts.push(
    `<text class="threshold-label" x="${M.left + 4}" y="${f(y(input.threshold) - 4)}" text-anchor="start">` +
      `threshold ${escapeHtml(formatValue(input.threshold))} ${escapeHtml(input.unit)}</text>`,
  );

  // The data line: segments break where a poll had no value.
  let d = '';
  let isPenDown = false;
  for (const p of input.points) {
    if (p.value === null || !Number.isFinite(p.value)) {
      isPenDown = false;
      continue;
    }
    d += `${isPenDown ? 'L' : 'M'}${f(x(p.atMs))},${f(y(p.value))}`;
    isPenDown = true;
  }
  parts.push(`<path class="series" d="${d}"/>`);
  for (const p of input.points) {
    const cls = VERDICT_CLASS[p.verdict] ?? 'nodata';
    const cy = p.value === null ? H - M.bottom : y(p.value);
    const valueText = p.value === null ? 'no value' : `${formatValue(p.value)} ${input.unit}`;
    const tip = `${new Date(p.atMs).toISOString()}: ${valueText} (${p.verdict})`;
    parts.push(
      `<circle class="point ${cls}" cx="${f(x(p.atMs))}" cy="${f(cy)}" r="${cls === 'pass' ? 2.5 : 4}">` +
        `<title>${escapeHtml(tip)}</title></circle>`,
    );
  }
  // Labels sit on different rows per kind so markers close in time do not overprint;
  // near the right edge they flip left.
  const LABEL_ROW: Record<ChartMarker['kind'], number> = {
    violation: M.top + 10,
    warning: M.top + 38,
    rollback: M.top + 24,
    recovered: H - M.bottom - 6,
  };
  for (const m of input.markers) {
    const isBand = m.untilMs !== undefined;
    if (!isBand) {
      parts.push(
        `<line class="marker ${m.kind}-marker" x1="${f(x(m.atMs))}" x2="${f(x(m.atMs))}" ` +
          `y1="${M.top}" y2="${H - M.bottom}"><title>${escapeHtml(m.label)}</title></line>`,
      );
    }
    const isRightHalf = x(m.atMs) > (W - M.right) * 0.7;
    const anchorX = isBand ? x(m.atMs) + 4 : isRightHalf ? x(m.atMs) - 4 : x(m.atMs) + 4;
    const anchor = !isBand && isRightHalf ? 'end' : 'start';
    parts.push(
      `<text class="marker-label ${m.kind}-label" x="${f(anchorX)}" y="${LABEL_ROW[m.kind]}" ` +
        `text-anchor="${anchor}">${escapeHtml(m.label)}</text>`,
    );
  }
  return [
    `<svg class="chart" id="chart-${escapeHtml(input.id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
      `role="img" aria-label="${escapeHtml(input.title)}" xmlns="http://www.w3.org/2000/svg">`,
    `<text class="chart-title" x="${M.left}" y="14">${escapeHtml(input.title)} (${escapeHtml(input.unit)})</text>`,
    ...parts,
    '</svg>',
  ].join('');
}

/** Rounds a maximum up to 1, 2 or 5 × a power of ten so the axis labels read well. */
export function getNiceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function formatValue(v: number): string {
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
}

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
