// A match query: nearest library entries by Hamming distance, the decision, and a review item when uncertain.
import type { ServiceStore } from './store/service-store.js';
import { decideMatch, type HashIndex, type MatchDecision, type MatchThresholds } from './library/index.js';

export interface MatchCandidate {
  id: number;
  label: string;
  hash: string;
  distance: number;
  /** 1 for identical hashes, falling linearly to 0 at 64 differing bits; rounded to 4 decimals. */
  confidence: number;
}

export interface MatchOutcome {
  decision: MatchDecision;
  matches: MatchCandidate[];
  /** Set when the decision is `review`: the low-confidence queue item created for the nearest candidate. */
  reviewId?: number;
}

export interface FindMatchesInput {
  store: ServiceStore;
  index: HashIndex;
  hash: string;
  thresholds: MatchThresholds;
  /** Most candidates returned (nearest first). */
  limit: number;
  /** Recorded on a review item, so a reviewer knows what was asked (e.g. `?label=` of the query). */
  queryLabel?: string;
}

export function getMatchConfidence(distance: number): number {
  return Math.round((1 - distance / 64) * 10_000) / 10_000;
}

/** Searches within the review threshold; a `review` enqueues exactly one item, for the nearest candidate. */
export async function findMatches(input: FindMatchesInput): Promise<MatchOutcome> {
  const hits = input.index.search(input.hash, input.thresholds.reviewMax, input.limit);
  // One read for every hit. A hit without a row was deleted elsewhere and the index has not heard yet: skipped, so
  // a match never names an entry that no longer exists (the index follower removes it within its bound).
  const entries = new Map((await input.store.getLibraryEntries(hits.map((hit) => hit.id))).map((e) => [e.id, e]));
  const matches: MatchCandidate[] = [];
  for (const hit of hits) {
    const entry = entries.get(hit.id);
    if (!entry) continue;
    matches.push({
      id: entry.id,
      label: entry.label,
      hash: entry.hash,
      distance: hit.distance,
      confidence: getMatchConfidence(hit.distance),
    });
  }
  const nearest = matches[0];
  const decision = decideMatch(nearest?.distance, input.thresholds);
  if (decision !== 'review') return { decision, matches };
  const item = await input.store.enqueueReviewItem({
    queryHash: input.hash,
    queryLabel: input.queryLabel,
    querySource: 'match',
    candidateId: nearest.id,
    candidateLabel: nearest.label,
    candidateHash: nearest.hash,
    distance: nearest.distance,
  });
  return { decision, matches, reviewId: item.id };
}
