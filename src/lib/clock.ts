// The injectable clock: every time-dependent piece reads time and waits through this, never Date.now() or setTimeout.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock, for production code paths. */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(
          () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.max(0, ms),
        );
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

export interface ManualClock extends Clock {
  /** Moves time forward, resolving every sleeper whose deadline has passed, in deadline order. */
  advance(ms: number): Promise<void>;
  /** Moves time to the next pending sleeper's deadline (or nowhere if none); returns whether one existed. */
  runNext(): Promise<boolean>;
  /** How many sleepers are waiting. */
  pending(): number;
}

/**
 * A virtual clock for tests: sleeps resolve only when the test advances time, so an hour-long
 * monitor runs in milliseconds. Between wake-ups it yields to the event loop so awaited work settles.
 */
export function createManualClock(startMs = Date.UTC(2026, 10, 28, 0, 0, 0)): ManualClock {
  let nowMs = startMs;
  let seq = 0;
  const sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  };
  const wakeDue = async () => {
    for (;;) {
      sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = sleepers[0];
      if (!next || next.at > nowMs) return;
      sleepers.shift();
      next.resolve();
      await settle();
    }
  };
  return {
    now: () => nowMs,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const entry = { at: nowMs + Math.max(0, ms), seq: seq++, resolve };
        sleepers.push(entry);
        signal?.addEventListener(
          'abort',
          () => {
            const i = sleepers.indexOf(entry);
            if (i >= 0) sleepers.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      }),
    async advance(ms) {
      const target = nowMs + ms;
      for (;;) {
        await settle();
        sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = sleepers[0];
        if (!next || next.at > target) break;
        nowMs = Math.max(nowMs, next.at);
        await wakeDue();
      }
      nowMs = target;
      await settle();
    },
    async runNext() {
      await settle();
      sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = sleepers[0];
      if (!next) return false;
      nowMs = Math.max(nowMs, next.at);
      await wakeDue();
      return true;
    },
    pending: () => sleepers.length,
  };
}
