// Pure: a fleet's cumulative waves ([1, "25%", "100%"]) turned into the hosts each wave adds, and its bake time.
import { createError } from '../../lib/errors.js';
import { DURATION_FORM, formatDurationMs, parseDurationMs } from './duration.js';

/** A wave as configured: a host count, or a share of the fleet ("25%"), counted from the start of the rollout. */
export type WaveSize = number | string;

export interface WavePlanInput {
  envName: string;
  /** Host names in the order of `target.hosts`: earlier hosts go first. */
  hostNames: readonly string[];
  waves: readonly WaveSize[];
  bake: string;
  maxUnavailable: number;
}

export interface Wave {
  /** 1-based, as shown to operators. */
  number: number;
  /** The configured size (`1`, `"25%"`). */
  size: WaveSize;
  /** The hosts this wave adds. */
  hosts: string[];
  /** How many hosts run the new release once this wave is done. */
  reachedCount: number;
}

export interface WavePlan {
  waves: Wave[];
  bakeMs: number;
  maxUnavailable: number;
  hostCount: number;
}

export interface ConfigProblem {
  path: string;
  message: string;
}

/** How many hosts a cumulative wave size reaches; a share rounds up, so "25%" of 3 hosts is 1 (never 0). */
export function getReachedCount(size: WaveSize, hostCount: number): number | undefined {
  if (typeof size === 'number') return Number.isInteger(size) && size > 0 ? size : undefined;
  const match = /^([1-9][0-9]?|100)%$/.exec(size);
  if (!match) return undefined;
  // Integer arithmetic: ceil(p·n/100) without floating point, so "33%" of 300 is exactly 99.
  return Math.floor((Number(match[1]) * hostCount + 99) / 100);
}

/** Every problem of the waves, bake and hosts at once, each naming its JSON path in environments.json. */
export function getWavePlanProblems(input: WavePlanInput): ConfigProblem[] {
  const base = `environments.${input.envName}.target`;
  const problems: ConfigProblem[] = [];
  const n = input.hostNames.length;
  const seen = new Map<string, number>();
  input.hostNames.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined)
      problems.push({ path: `${base}.hosts[${i}].name`, message: `host name \`${name}\` is also hosts[${first}]` });
    else seen.set(name, i);
  });
  if (input.waves.length === 0) problems.push({ path: `${base}.waves`, message: 'needs at least one wave' });
  let previous = 0;
  input.waves.forEach((size, i) => {
    const path = `${base}.waves[${i}]`;
    const reached = getReachedCount(size, n);
    if (reached === undefined) {
      problems.push({ path, message: `expected a positive host count or a share such as "25%", got ${show(size)}` });
      return;
    }
    if (reached > n) {
      problems.push({ path, message: `reaches ${reached} hosts, but the fleet has ${n}` });
      return;
    }
    if (reached <= previous) {
      problems.push({
        path,
        message:
          `reaches ${reached} of ${n} hosts, no more than the wave before it (${previous}): ` +
          'waves are cumulative and each must add at least one host',
      });
      return;
    }
    previous = reached;
  });
  const last = input.waves.length - 1;
  if (last >= 0 && problems.every((p) => !p.path.startsWith(`${base}.waves`)) && previous < n) {
    problems.push({
      path: `${base}.waves[${last}]`,
      message: `the last wave reaches ${previous} of ${n} hosts; it must reach every host (end with "100%")`,
    });
  }
  const bakeMs = parseDurationMs(input.bake);
  if (bakeMs === undefined || bakeMs <= 0)
    problems.push({
      path: `${base}.bake`,
      message: `expected ${DURATION_FORM}, greater than zero, got ${show(input.bake)}`,
    });
  return problems;
}

/** The plan, or EINVALIDCONFIG (exit 2) listing every problem with its `environments.<env>.target…` path. */
export function createWavePlan(input: WavePlanInput): WavePlan {
  const problems = getWavePlanProblems(input);
  if (problems.length > 0) throw createError('EINVALIDCONFIG', { file: 'environments.json', problems });
  const waves: Wave[] = [];
  let previous = 0;
  input.waves.forEach((size, i) => {
    const reached = getReachedCount(size, input.hostNames.length)!;
    waves.push({ number: i + 1, size, hosts: input.hostNames.slice(previous, reached), reachedCount: reached });
    previous = reached;
  });
  return {
    waves,
    bakeMs: parseDurationMs(input.bake)!,
    maxUnavailable: input.maxUnavailable,
    hostCount: input.hostNames.length,
  };
}

/** `wave 1 (1): web-1` … one line per wave, for plans and status. */
export function formatWavePlan(plan: WavePlan): string[] {
  return plan.waves.map(
    (w) =>
      `wave ${w.number} (${show(w.size)} → ${w.reachedCount}/${plan.hostCount} hosts): ${w.hosts.join(', ')}; ` +
      `then bake ${formatDurationMs(plan.bakeMs)}`,
  );
}

const show = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : String(value));
