// Sliding windows over timed samples: a sample older than the window no longer counts.
export interface TimedSample<T> {
  atMs: number;
  value: T;
}

/**
 * The samples whose age at `nowMs` is at most `windowMs` (age exactly windowMs still counts; one ms older does not).
 */
export function selectWindowSamples<T>(samples: TimedSample<T>[], nowMs: number, windowMs: number): TimedSample<T>[] {
  return samples.filter((s) => s.atMs <= nowMs && nowMs - s.atMs <= windowMs);
}

/** The mean of the samples in the window, or undefined when there are none. */
export function getWindowAverage(samples: TimedSample<number>[], nowMs: number, windowMs: number): number | undefined {
  const inWindow = selectWindowSamples(samples, nowMs, windowMs);
  if (inWindow.length === 0) return undefined;
  return inWindow.reduce((sum, s) => sum + s.value, 0) / inWindow.length;
}

/** Drops samples no window can need any more, keeping one older sample as the baseline of the longest window. */
export function pruneSamples<T>(samples: TimedSample<T>[], nowMs: number, longestWindowMs: number): TimedSample<T>[] {
  const firstInside = samples.findIndex((s) => nowMs - s.atMs <= longestWindowMs);
  if (firstInside <= 0) return firstInside === -1 ? samples.slice(-1) : samples;
  return samples.slice(firstInside - 1);
}
