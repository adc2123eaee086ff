// The running build's version (package.json), for /health, dhash_build_info and the serve banner.
import { readFile } from 'node:fs/promises';

/** Reads the package.json two levels above this module: the repo root from src/service and from dist/service. */
export async function readServiceVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
