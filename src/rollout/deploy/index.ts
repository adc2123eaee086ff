// Deploying a release: preflight, the step runner, the interrupt-shielded safety path and deployRelease. Re-exports
// only, so no module imports its own folder at load time.
export * from './deploy-release.js';
export * from './preflight.js';
export * from './safety-path.js';
export * from './step-runner.js';
