// The pure match decision: how close a library entry must be to count as a match or to need a human.

export type MatchDecision = 'match' | 'review' | 'none';

export interface MatchThresholds {
  /** Largest Hamming distance decided `match` (default 4). */
  matchMax: number;
  /** Largest Hamming distance sent to the review queue (default 10); above it: `none`. */
  reviewMax: number;
}

export const DEFAULT_MATCH_THRESHOLDS: MatchThresholds = Object.freeze({ matchMax: 4, reviewMax: 10 });

/** `distance` of the nearest entry, or undefined when the search found none within reviewMax. */
export function decideMatch(
  distance: number | undefined,
  thresholds: MatchThresholds = DEFAULT_MATCH_THRESHOLDS,
): MatchDecision {
  if (distance === undefined || !Number.isFinite(distance)) return 'none';
  if (distance <= thresholds.matchMax) return 'match';
  if (distance <= thresholds.reviewMax) return 'review';
  return 'none';
}
