// The library of known images: SQLite repository, in-memory Hamming index and the match decision.
export * from './library-repository.js';
export { HashIndex, type IndexHit } from './hash-index.js';
export { loadLibraryIndex } from './load-library-index.js';
export { decideMatch, DEFAULT_MATCH_THRESHOLDS, type MatchDecision, type MatchThresholds } from './decide-match.js';
export {
  parseHash,
  formatHash,
  normalizeHash,
  isValidHash,
  getHammingDistance,
  countBits32,
  type HashHalves,
} from './hash-bits.js';
