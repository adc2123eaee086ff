// Runs a safety operation (switch-back, rollback) shielded from the interrupt that stopped the deploy; a second one
// abandons it.
import { readlink } from 'node:fs/promises';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { Clock } from '../../lib/clock.js';
import { checkHealthOnce } from '../checks/health.js';
import { getServiceAuthHeaders } from '../signals/service/auth-headers.js';

/** A second interrupt within this long of the previous one abandons a running safety operation. */
export const ESCAPE_WINDOW_MS = 5000;
/** How long an abandoned operation gets to reach its next check of the escape signal before the state is described. */
const SETTLE_AFTER_ESCAPE_MS = 2000;

/**
 * Every SIGINT/SIGTERM the process received. The first aborts `signal` (forward progress stops); the safety path
 * listens for the ones after it. Created once by the CLI entry file, which alone touches `process`.
 */
export interface Interrupts {
  readonly signal: AbortSignal;
  /** Time of the latest interrupt (this clock), if any. */
  getLastAtMs(): number | undefined;
  /** Calls `listener` on every later interrupt; returns the unsubscribe. Never throws. */
  subscribe(listener: (atMs: number, name: string) => void): () => void;
}

// The interrupts travel with the AbortSignal every step already receives, so no option has to be threaded through
// deploy, rollback, pipeline and monitor signatures to reach the safety path.
const bySignal = new WeakMap<AbortSignal, Interrupts>();

export function createInterrupts(clock: Clock): { interrupts: Interrupts; fire(name: string): void } {
  const controller = new AbortController();
  const listeners = new Set<(atMs: number, name: string) => void>();
  let lastAtMs: number | undefined;
  const interrupts: Interrupts = {
    signal: controller.signal,
    getLastAtMs: () => lastAtMs,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  bySignal.set(controller.signal, interrupts);
  const fire = (name: string) => {
    const atMs = clock.now();
    // Listeners first: they compare this interrupt with the previous one.
    for (const listener of [...listeners]) listener(atMs, name);
    lastAtMs = atMs;
    if (!controller.signal.aborted) controller.abort(new Error(`received ${name}`));
  };
  return { interrupts, fire };
}

/** The interrupts behind `signal`, when the CLI entry file created it; a plain AbortSignal has none. */
export function getInterrupts(signal: AbortSignal | undefined): Interrupts | undefined {
  return signal ? bySignal.get(signal) : undefined;
}

export type SafetyOutcome<T> = { isAbandoned: false; value: T } | { isAbandoned: true; leftState: string };

export interface SafetyOperationInput<T> {
  /** The step name, shown in notices (`deploy:switch-back`, `rollback:restore`). */
  name: string;
  clock: Clock;
  /** The caller's (forward) signal: never passed to `run`; its interrupts are watched for the escape. */
  signal?: AbortSignal;
  /** The operation; `escape` aborts only when the operator abandons it. */
  run: (escape: AbortSignal) => Promise<T>;
  /** What is left when abandoned: `current`, and whether the service answered health (see describeServingNow). */
  describeLeftState: () => Promise<string>;
  onNotice?: (line: string) => void;
}

/**
 * Runs `run` to completion even though the deploy was interrupted: a half-done switch-back is worse than either end.
 * An interrupt during it only prints how to abandon it; a second interrupt within ESCAPE_WINDOW_MS of the previous one
 * stops waiting, aborts `escape`, and returns what state is left. Errors of `run` propagate unchanged.
 */
export async function runSafetyOperation<T>(input: SafetyOperationInput<T>): Promise<SafetyOutcome<T>> {
  const interrupts = getInterrupts(input.signal);
  const escape = new AbortController();
  const ESCAPED = Symbol('escaped');
  let onEscape: () => void = () => {};
  const escaped = new Promise<typeof ESCAPED>((resolve) => (onEscape = () => resolve(ESCAPED)));
  if (input.signal?.aborted) {
    input.onNotice?.(
      `  ! ${input.name} runs to completion despite the interrupt; ` +
        `interrupt again within ${ESCAPE_WINDOW_MS / 1000} s to abandon it`,
    );
  }
  let previousAtMs = interrupts?.getLastAtMs();
  const unsubscribe = interrupts?.subscribe((atMs, name) => {
    if (previousAtMs !== undefined && atMs - previousAtMs <= ESCAPE_WINDOW_MS) {
      // Resolve the race first: the aborted operation's own rejection must not win it.
      onEscape();
      escape.abort(new Error(`${input.name} abandoned by a second ${name}`));
      return;
    }
    previousAtMs = atMs;
    input.onNotice?.(
      `  ! ${name}: ${input.name} is running and will finish; ` +
        `interrupt again within ${ESCAPE_WINDOW_MS / 1000} s to abandon it`,
    );
  });
  try {
    const running = input.run(escape.signal);
    const first = await Promise.race([running, escaped]);
    if (first === ESCAPED) {
      // Let the operation stop at its next check of `escape` (bounded), so the state reported is the state left.
      const settleTimer = new AbortController();
      await Promise.race([
        running.then(
          () => {},
          () => {},
        ),
        input.clock.sleep(SETTLE_AFTER_ESCAPE_MS, settleTimer.signal).catch(() => {}),
      ]);
      settleTimer.abort();
      return { isAbandoned: true, leftState: await input.describeLeftState() };
    }
    return { isAbandoned: false, value: first };
  } finally {
    unsubscribe?.();
  }
}

/** What really serves: where `current` points and one health probe's answer, in one line for the final message. */
export async function describeServingNow(
  environment: ResolvedEnvironment,
  clock: Clock,
  timeoutMs = 3000,
): Promise<{ releaseId?: string; isHealthy: boolean; text: string }> {
  const target = await readlink(environment.currentLink).catch(() => undefined);
  const releaseId = target?.split('/').pop();
  const health = await checkHealthOnce(environment.healthUrl, clock, timeoutMs, getServiceAuthHeaders(environment));
  const answer = health.ok
    ? `answered health OK (${health.status})`
    : `did not answer health OK (${health.status ?? health.error})`;
  const where = releaseId ? `current → releases/${releaseId}` : 'no `current` link (nothing deployed)';
  return { releaseId, isHealthy: health.ok, text: `${where}; ${environment.healthUrl} ${answer}` };
}
