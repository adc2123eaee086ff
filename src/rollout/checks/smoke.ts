// Post-deploy smoke tests against a running service: health, metric names, a known fixture hash, a library round trip.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedEnvironment } from '../config/environments.js';
import { createSystemClock, type Clock } from '../../lib/clock.js';
import { createFixturePng, FIXTURE_EXPECTED_HASH } from './smoke/fixture-image.js';
import { createLibraryRoundTripCheck } from './smoke/library-round-trip.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';

export interface SmokeCheck {
  name: string;
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface SmokeResult {
  ok: boolean;
  checks: SmokeCheck[];
  logFile: string;
}

export interface SmokeOptions {
  /** Readable log, appended; default `<root>/logs/postdeploy-smoketests.log`. */
  logFile?: string;
  clock?: Clock;
  requestTimeoutMs?: number;
}

/** The metric names (and the `le="2"` bucket) the monitor's gates read: a release without them cannot be watched. */
export const REQUIRED_METRICS = [
  'dhash_hash_duration_seconds',
  'dhash_extractions_total',
  'dhash_low_confidence_queue_length',
  'dhash_build_info',
];

/** `headers` carries the rollout's bearer token when DHASH_ROLLOUT_TOKEN is set; every request of a check sends it. */
export type CheckFn = (baseUrl: string, timeoutMs: number, headers: Record<string, string>) => Promise<string>;

export function getSmokeLogFile(environment: ResolvedEnvironment): string {
  return join(environment.logsDir, 'postdeploy-smoketests.log');
}

async function fetchText(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

const checkHealth: CheckFn = async (baseUrl, timeoutMs, headers) => {
  const { status, text } = await fetchText(`${baseUrl}/health`, { headers }, timeoutMs);
  const body = JSON.parse(text) as { status?: string };
  if (status !== 200 || body.status !== 'ok') throw new Error(`GET /health answered ${status} ${text.slice(0, 200)}`);
  return `GET /health 200 status ok`;
};

const checkMetrics: CheckFn = async (baseUrl, timeoutMs, headers) => {
  const { status, text } = await fetchText(`${baseUrl}/metrics`, { headers }, timeoutMs);
  if (status !== 200) throw new Error(`GET /metrics answered ${status}`);
  const missing = REQUIRED_METRICS.filter((name) => !new RegExp(`^${name}(_bucket|_count|_sum)?[{ ]`, 'm').test(text));
  if (missing.length) throw new Error(`missing metric(s): ${missing.join(', ')}`);
  if (!/^dhash_hash_duration_seconds_bucket\{[^}]*le="2"/m.test(text))
    throw new Error('dhash_hash_duration_seconds has no le="2" bucket');
  return `all of ${REQUIRED_METRICS.join(', ')} present, le="2" bucket present`;
};

const checkFixtureHash: CheckFn = async (baseUrl, timeoutMs, headers) => {
  const png = await createFixturePng();
  const { status, text } = await fetchText(
    `${baseUrl}/v1/hash`,
    { method: 'POST', body: png, headers: { ...headers, 'content-type': 'image/png' } },
    timeoutMs,
  );
  if (status !== 200) throw new Error(`POST /v1/hash answered ${status} ${text.slice(0, 200)}`);
  const hash = (JSON.parse(text) as { hash?: string }).hash;
  if (hash !== FIXTURE_EXPECTED_HASH) throw new Error(`fixture hashed to ${hash}, expected ${FIXTURE_EXPECTED_HASH}`);
  return `fixture gradient hashed to ${hash} as expected`;
};

export const SMOKE_CHECKS: { name: string; run: CheckFn }[] = [
  { name: 'smoke:health', run: checkHealth },
  { name: 'smoke:metrics', run: checkMetrics },
  { name: 'smoke:fixture-hash', run: checkFixtureHash },
  { name: 'smoke:library-round-trip', run: createLibraryRoundTripCheck(createFixturePng) },
];

/** Runs every check (a failing one does not stop the others) and appends a readable report to the log file. */
export async function runSmokeTests(
  environment: ResolvedEnvironment,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  const clock = options.clock ?? createSystemClock();
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const logFile = options.logFile ?? getSmokeLogFile(environment);
  const headers = getServiceAuthHeaders(environment);
  const checks: SmokeCheck[] = [];
  for (const check of SMOKE_CHECKS) {
    const startedAt = clock.now();
    try {
      const detail = await check.run(environment.baseUrl, timeoutMs, headers);
      checks.push({ name: check.name, ok: true, detail, durationMs: clock.now() - startedAt });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      checks.push({
        name: check.name,
        ok: false,
        detail: cause ? `${(error as Error).message} (${cause})` : (error as Error).message,
        durationMs: clock.now() - startedAt,
      });
    }
  }
  const ok = checks.every((c) => c.ok);
  const lines = [
    `== smoke tests of ${environment.name} at ${environment.baseUrl}, ` +
      `${new Date(clock.now()).toISOString()}: ${ok ? 'PASSED' : 'FAILED'}`,
    ...checks.map((c) => `[${c.ok ? 'PASS' : 'FAIL'}] ${c.name} (${c.durationMs} ms): ${c.detail}`),
    '',
  ];
  await mkdir(dirname(logFile), { recursive: true });
  await appendFile(logFile, lines.join('\n'));
  return { ok, checks, logFile };
}
