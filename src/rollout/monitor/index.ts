// The T+60 monitor of one deploy: polls the signals on the configured cadence, judges the gates, persists state, and
// rolls back once.
export * from './run-monitor.js';
