// Rolling a release out to a fleet of ssh hosts in gated waves, rolling it back by hand, and its status.
// Re-exports only.
export * from './fleet-config.js';
export * from './fleet-database.js';
export * from './fleet-gates.js';
export * from './fleet-run.js';
export * from './fleet-signals.js';
export * from './fleet-state.js';
export * from './fleet-status.js';
export * from './manual-rollback-fleet.js';
export * from './roll-out-fleet.js';
