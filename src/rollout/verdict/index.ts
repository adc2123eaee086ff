// The gates' verdict over HTTP, for Argo Rollouts and Flagger. Re-exports only, so no module imports its own folder at
// load time.
export * from './gates-server.js';
