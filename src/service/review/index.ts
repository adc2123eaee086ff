// The low-confidence review queue.
export * from './review-repository.js';
