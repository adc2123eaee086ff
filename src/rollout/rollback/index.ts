// Rolling back: the strategy plan, switch-back, down-migrate, restore with carry-forward, backup verification.
// Re-exports only, so no module imports its own folder at load time.
export * from './carry-forward.js';
export * from './rollback-checks.js';
export * from './rollback-from-backup.js';
export * from './rollback-plan.js';
export * from './rollback-restore.js';
export * from './rollback-switch-back.js';
export * from './rollback-verify.js';
