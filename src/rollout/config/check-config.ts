// Validates both configuration files at once (environments.json, quality-gates-config.json), collecting every problem
// with its JSON path.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { z } from 'zod';
import { isDhashError } from '../../lib/errors.js';
import { getProjectPaths } from '../../lib/project-paths.js';
import { environmentsFileSchema, type EnvironmentsFile } from './environments-schema.js';
import { EMBEDDED_LOCAL } from './environments.js';
import { getConfigProblems, readJsonFile } from './load-json-config.js';
import { qualityGatesFileSchema, type QualityGatesFile } from './quality-gates-schema.js';

export interface ConfigProblem {
  /** The file as shown to the operator (relative to the repo root). */
  file: string;
  /** The JSON path (`environments.staging.service.port`), or '' for the file as a whole. */
  path: string;
  message: string;
}

export interface ConfigCheck {
  problems: ConfigProblem[];
  /**
   * Parsed files (null when missing or invalid); environments falls back to the embedded `local` when the file is
   * absent.
   */
  environments: EnvironmentsFile | null;
  qualityGates: QualityGatesFile | null;
  /** Facts worth printing that are not errors (file absent, embedded default used, gates for an unknown env). */
  notes: string[];
}

async function parseFile<S extends z.ZodType>(
  file: string,
  projectRoot: string,
  schema: S,
  problems: ConfigProblem[],
): Promise<z.output<S> | null> {
  const shown = relative(projectRoot, file) || file;
  let raw: unknown;
  try {
    raw = await readJsonFile(file, projectRoot);
  } catch (error) {
    if (!isDhashError(error)) throw error;
    problems.push({
      file: shown,
      path: '',
      message: error.code === 'ECONFIGPARSE' ? `${error.message} ${error.details}` : error.message,
    });
    return null;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  problems.push(...getConfigProblems(result.error).map((p) => ({ file: shown, ...p })));
  return null;
}

/** Never throws for bad config: every problem of both files is returned, so the operator fixes them in one go. */
export async function checkConfigFiles(projectRoot: string): Promise<ConfigCheck> {
  const paths = getProjectPaths(projectRoot);
  const problems: ConfigProblem[] = [];
  const notes: string[] = [];
  let environments: EnvironmentsFile | null;
  if (existsSync(paths.environmentsFile)) {
    environments = await parseFile(paths.environmentsFile, projectRoot, environmentsFileSchema, problems);
    if (environments && !environments.environments.local) {
      environments.environments.local = EMBEDDED_LOCAL;
      notes.push('environments.json has no `local` entry: the embedded default is used for it.');
    }
  } else {
    environments = { environments: { local: EMBEDDED_LOCAL } };
    notes.push('environments.json does not exist: only the embedded `local` environment is available.');
  }
  // The gates file ships with the repo; the monitor cannot run without it, so its absence is a problem.
  const qualityGates = await parseFile(paths.qualityGatesFile, projectRoot, qualityGatesFileSchema, problems);
  if (environments && qualityGates) {
    for (const name of Object.keys(qualityGates.environments)) {
      if (!environments.environments[name])
        notes.push(`quality-gates-config.json has overrides for \`${name}\`, which environments.json does not define.`);
    }
  }
  return { problems, environments, qualityGates, notes };
}
