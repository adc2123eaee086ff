// Target drivers: how the service of an environment is started, stopped and inspected. Only re-exports, so no driver
// imports its own parent at load time: the interface is in target-driver.ts, the factory switch in create-driver.ts.
export { getServeArgs, type TargetDriver, type TargetDriverOptions, type TargetStatus } from './target-driver.js';
export { createTargetDriver } from './create-driver.js';
