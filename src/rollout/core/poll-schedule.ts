// The monitor's poll cadence as pure arithmetic: which offsets from the window start are polled, and what comes next.
import type { PollPhase } from '../config/quality-gates.js';

/** The interval in force at `offsetMs`: the phase whose span contains it (the last phase runs to the end). */
export function getIntervalAtMs(poll: PollPhase[], offsetMs: number): number {
  let phaseStartMs = 0;
  for (const phase of poll) {
    if (phase.forMs === undefined || offsetMs < phaseStartMs + phase.forMs) return phase.everyMs;
    phaseStartMs += phase.forMs;
  }
  return poll[poll.length - 1].everyMs;
}

/**
 * The scheduled poll offset after `offsetMs`, or undefined once the window is done. The first poll is at 0;
 * each next one is the interval in force at the previous one later; the last poll lands exactly on the window's end
 * so the whole window is observed.
 */
export function getNextPollOffsetMs(poll: PollPhase[], windowMs: number, offsetMs: number): number | undefined {
  if (offsetMs >= windowMs) return undefined;
  return Math.min(offsetMs + getIntervalAtMs(poll, offsetMs), windowMs);
}

/** Every scheduled poll offset of the window, in order. */
export function getPollOffsetsMs(poll: PollPhase[], windowMs: number): number[] {
  const offsets = [0];
  for (
    let next = getNextPollOffsetMs(poll, windowMs, 0);
    next !== undefined;
    next = getNextPollOffsetMs(poll, windowMs, next)
  ) {
    offsets.push(next);
  }
  return offsets;
}

/**
 * Where a (possibly resumed) monitor polls next: the scheduled offset after the last poll, or right now when the
 * monitor was away past it (one catch-up poll, then back on the schedule). Undefined when the window is over.
 */
export function getResumeOffsetMs(
  poll: PollPhase[],
  windowMs: number,
  lastPollOffsetMs: number | undefined,
  nowOffsetMs: number,
): number | undefined {
  if (lastPollOffsetMs === undefined) return Math.min(Math.max(0, nowOffsetMs), windowMs);
  let next = getNextPollOffsetMs(poll, windowMs, lastPollOffsetMs);
  if (next === undefined) return undefined;
  if (next < nowOffsetMs) {
    // Missed polls are not replayed: their moments are gone; one poll now re-reads the counters.
    next = Math.min(nowOffsetMs, windowMs);
    if (next <= lastPollOffsetMs) return undefined;
  }
  return next;
}
