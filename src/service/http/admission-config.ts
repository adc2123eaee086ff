// Resolves the admission limits from serve flags, environment variables and the service config,
// validated, each error naming its source.
import { createError } from '../../lib/errors.js';
import { DEFAULT_ADMISSION_LIMITS, type AdmissionLimits } from './admission.js';

type LimitName = keyof AdmissionLimits;

interface LimitSpec {
  flag: string;
  envVar: string;
  expected: string;
  /** The value, or undefined when `text` is not acceptable. */
  parse(text: string): number | undefined;
}

const UNITS: Record<string, number> = { '': 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

const parsePositiveInteger = (text: string) =>
  /^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
const parseNonNegativeInteger = (text: string) =>
  /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
const parseBytes = (text: string) => {
  const match = /^(\d+)\s*(kb|mb|gb)?$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()];
  return Number.isSafeInteger(bytes) && bytes >= 1 ? bytes : undefined;
};

export const ADMISSION_LIMIT_SPECS: Record<LimitName, LimitSpec> = {
  maxInFlight: {
    flag: '--max-in-flight',
    envVar: 'DHASH_MAX_IN_FLIGHT',
    expected: 'a positive integer (hashing jobs at once)',
    parse: parsePositiveInteger,
  },
  maxQueuedBytes: {
    flag: '--max-queued-bytes',
    envVar: 'DHASH_MAX_QUEUED_BYTES',
    expected: 'a positive number of bytes, optionally with KB, MB or GB (e.g. 64MB)',
    parse: parseBytes,
  },
  maxQueueWaitMs: {
    flag: '--max-queue-wait-ms',
    envVar: 'DHASH_MAX_QUEUE_WAIT_MS',
    expected: 'a non-negative integer of milliseconds',
    parse: parseNonNegativeInteger,
  },
};

export interface AdmissionSources {
  /** Serve flags as commander gives them (strings), by limit name. */
  flags: Partial<Record<LimitName, string>>;
  processEnv: Record<string, string | undefined>;
  /** The `admission` object of the service config file, if any, and the file's name for messages. */
  config?: { file: string; admission: unknown };
}

/**
 * Flag over environment variable over service config over default. Throws EINVALIDOPTION naming the flag or
 * variable, or EINVALIDCONFIG listing every bad entry of the config file, before the service starts.
 */
export function resolveAdmissionLimits(sources: AdmissionSources): AdmissionLimits {
  const fromConfig = readConfigLimits(sources.config);
  const limits: AdmissionLimits = { ...DEFAULT_ADMISSION_LIMITS, ...fromConfig };
  for (const name of Object.keys(ADMISSION_LIMIT_SPECS) as LimitName[]) {
    const spec = ADMISSION_LIMIT_SPECS[name];
    const flagValue = sources.flags[name];
    const envValue = sources.processEnv[spec.envVar];
    const [option, text] =
      flagValue !== undefined
        ? [spec.flag, flagValue]
        : envValue !== undefined && envValue !== ''
          ? [spec.envVar, envValue]
          : [];
    if (option === undefined || text === undefined) continue;
    const value = spec.parse(text);
    if (value === undefined) throw createError('EINVALIDOPTION', { option, expected: spec.expected, actual: text });
    limits[name] = value;
  }
  return limits;
}

function readConfigLimits(config: AdmissionSources['config']): Partial<AdmissionLimits> {
  if (config === undefined || config.admission === undefined) return {};
  const { file, admission } = config;
  if (typeof admission !== 'object' || admission === null || Array.isArray(admission)) {
    throw createError('EINVALIDCONFIG', { file, problems: [{ path: 'admission', message: 'expected an object' }] });
  }
  const out: Partial<AdmissionLimits> = {};
  const problems: { path: string; message: string }[] = [];
  for (const [key, raw] of Object.entries(admission)) {
    const spec = ADMISSION_LIMIT_SPECS[key as LimitName];
    if (!spec) {
      problems.push({
        path: `admission.${key}`,
        message: `unknown setting (known: ${Object.keys(ADMISSION_LIMIT_SPECS).join(', ')})`,
      });
      continue;
    }
    const value = typeof raw === 'number' || typeof raw === 'string' ? spec.parse(String(raw)) : undefined;
    if (value === undefined)
      problems.push({ path: `admission.${key}`, message: `expected ${spec.expected}, got ${JSON.stringify(raw)}` });
    else out[key as LimitName] = value;
  }
  if (problems.length > 0) throw createError('EINVALIDCONFIG', { file, problems });
  return out;
}
