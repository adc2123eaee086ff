// Waits for N consecutive OK health checks of a service URL, with a deadline; every check is recorded.
import type { Clock } from '../../lib/clock.js';

export interface HealthCheck {
  at: string;
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
}

export interface HealthWaitResult {
  ok: boolean;
  checks: HealthCheck[];
  /** Why it gave up (timeout, aborted, or what `getAbortReason` said, e.g. the process died). */
  reason?: string;
}

export interface WaitForHealthyOptions {
  consecutiveOk: number;
  intervalMs: number;
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
  /** Per-request timeout; default 5000 (a slow answer under load is still an answer). */
  requestTimeoutMs?: number;
  /** Asked between checks; a string ends the wait early as failed (e.g. "the service process exited"). */
  getAbortReason?: () => Promise<string | undefined>;
  /** Called after every check (progress output). */
  onCheck?: (check: HealthCheck) => void;
  /** Sent with every check, e.g. the rollout's bearer token for a service started with --protect-probes. */
  headers?: Record<string, string>;
}

/** One GET of `url`: ok when the answer is 2xx and, if JSON with a status field, that status is "ok". */
export async function checkHealthOnce(
  url: string,
  clock: Clock,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<HealthCheck> {
  const startedAt = clock.now();
  const at = new Date(startedAt).toISOString();
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let ok = response.ok;
    try {
      const body = JSON.parse(text) as { status?: unknown };
      if (body && typeof body === 'object' && 'status' in body) ok = ok && body.status === 'ok';
    } catch {}
    return {
      at,
      ok,
      status: response.status,
      latencyMs: clock.now() - startedAt,
      ...(ok ? {} : { error: text.slice(0, 200) }),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      at,
      ok: false,
      latencyMs: clock.now() - startedAt,
      error: cause?.code ?? cause?.message ?? (error as Error).message,
    };
  }
}

export async function waitForHealthy(url: string, options: WaitForHealthyOptions): Promise<HealthWaitResult> {
  const { clock } = options;
  const deadline = clock.now() + options.timeoutMs;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const checks: HealthCheck[] = [];
  let streak = 0;
  for (;;) {
    if (options.signal?.aborted) return { ok: false, checks, reason: describeAbort(options.signal) };
    const check = await checkHealthOnce(url, clock, requestTimeoutMs, options.headers);
    checks.push(check);
    options.onCheck?.(check);
    streak = check.ok ? streak + 1 : 0;
    if (streak >= options.consecutiveOk) return { ok: true, checks };
    const abortReason = await options.getAbortReason?.();
    if (abortReason) return { ok: false, checks, reason: abortReason };
    if (clock.now() + options.intervalMs > deadline) {
      return {
        ok: false,
        checks,
        reason:
          `no ${options.consecutiveOk} consecutive OK checks within ${options.timeoutMs} ms ` +
          `(last: ${check.status ?? check.error})`,
      };
    }
    try {
      await clock.sleep(options.intervalMs, options.signal);
    } catch {
      return { ok: false, checks, reason: describeAbort(options.signal) };
    }
  }
}

/** "interrupted (received SIGINT)" when the signal says why, else "aborted". */
function describeAbort(signal: AbortSignal | undefined): string {
  const reason = signal?.reason as { message?: unknown } | undefined;
  return typeof reason?.message === 'string' && reason.message.startsWith('received ')
    ? `interrupted (${reason.message})`
    : 'aborted';
}
