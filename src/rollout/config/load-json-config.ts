// Reads a JSON config file and validates it with zod, turning every problem into a path-naming EINVALIDCONFIG.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { z } from 'zod';
import { createError } from '../../lib/errors.js';

/** Formats zod issues as `{path: "environments.local.service.port", message}` pairs, all of them at once. */
export function getConfigProblems(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replace(/\.\[/g, '['),
    message: issue.message,
  }));
}

export async function readJsonFile(file: string, displayRoot: string): Promise<unknown> {
  const shown = relative(displayRoot, file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw createError('ECONFIGNOTFOUND', { file: shown }, error);
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw createError('ECONFIGPARSE', { file: shown, reason: (error as Error).message }, error);
  }
}

/** Parses `value` with `schema`; throws one EINVALIDCONFIG listing every problem with its JSON path. */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, shownFile: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw createError('EINVALIDCONFIG', { file: shownFile, problems: getConfigProblems(result.error) });
  return result.data;
}
