// An environment's state files: the deploy lock and the deploy journal. Re-exports only, so no module imports its own
// folder at load time.
export * from './journal.js';
export * from './lock.js';
