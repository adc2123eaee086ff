// Checks against a running service: health waits and smoke tests. Re-exports only, so no module imports its own folder
// at load time.
export * from './health.js';
export * from './smoke.js';
export * from './service-health.js';
