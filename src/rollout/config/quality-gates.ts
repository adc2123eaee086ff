// Loads quality-gates-config.json, merges an environment's overrides over the defaults gate by gate, resolves durations
// to ms.
import { relative } from 'node:path';
import { existsSync } from 'node:fs';
import { parseDurationMs } from '../core/duration.js';
import { getProjectPaths } from '../../lib/project-paths.js';
import { readJsonFile, validateConfig } from './load-json-config.js';
import { qualityGatesFileSchema, type GateName, type QualityGatesFile } from './quality-gates-schema.js';

export type GateAction = 'rollback' | 'alert';
export interface PollPhase {
  everyMs: number;
  /** Absent on the last phase, which runs to the end of the window. */
  forMs?: number;
}
export interface ResolvedGates {
  health: { maxConsecutiveFailures: number; action: GateAction };
  extractionFailureRate: { maxPercent: number; windowMs: number; minEvents: number; action: GateAction };
  p95HashTime: { maxMs: number; windowMs: number; minEvents: number; action: GateAction };
  lowConfidenceQueue: { maxItems: number; action: GateAction };
  cpu: { maxPercent: number; windowMs: number; action: GateAction };
  memory: { maxPercent: number; action: GateAction };
  disk: { maxPercent: number; action: GateAction };
}
export interface ResolvedQualityGates {
  env: string;
  monitor: { windowMs: number; poll: PollPhase[] };
  gates: ResolvedGates;
}

const toMs = (text: string): number => parseDurationMs(text) as number;

/** Reads and validates the whole file (every environment), throwing one EINVALIDCONFIG naming every bad JSON path. */
export async function validateQualityGatesFile(projectRoot: string): Promise<QualityGatesFile> {
  const file = getProjectPaths(projectRoot).qualityGatesFile;
  const raw = await readJsonFile(file, projectRoot);
  return validateConfig(qualityGatesFileSchema, raw, relative(projectRoot, file) || file);
}

/** Resolves the gates of `envName`: environment entries override the defaults key by key (per gate, per field). */
export function resolveQualityGates(file: QualityGatesFile, envName: string): ResolvedQualityGates {
  const override = file.environments[envName] ?? {};
  const monitor = { ...file.defaults.monitor, ...(override.monitor ?? {}) };
  const gates = {} as Record<GateName, Record<string, unknown>>;
  for (const [name, base] of Object.entries(file.defaults.gates) as [GateName, Record<string, unknown>][]) {
    const merged: Record<string, unknown> = {
      ...base,
      ...((override.gates?.[name] as Record<string, unknown> | undefined) ?? {}),
    };
    if (typeof merged.window === 'string') {
      merged.windowMs = toMs(merged.window);
      delete merged.window;
    }
    gates[name] = merged;
  }
  return {
    env: envName,
    monitor: {
      windowMs: toMs(monitor.window),
      poll: monitor.poll.map((p) =>
        p.for === undefined ? { everyMs: toMs(p.every) } : { everyMs: toMs(p.every), forMs: toMs(p.for) },
      ),
    },
    gates: gates as unknown as ResolvedGates,
  };
}

/** The resolved gates of one environment, from `<projectRoot>/quality-gates-config.json`. */
export async function loadQualityGates(projectRoot: string, envName: string): Promise<ResolvedQualityGates> {
  return resolveQualityGates(await validateQualityGatesFile(projectRoot), envName);
}

export function hasQualityGatesFile(projectRoot: string): boolean {
  return existsSync(getProjectPaths(projectRoot).qualityGatesFile);
}
