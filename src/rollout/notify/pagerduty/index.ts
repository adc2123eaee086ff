// PagerDuty Events API v2: `trigger` with a stable dedup_key per deploy, `resolve` with the same key when a rollback
// succeeds.
export * from './pagerduty-channel.js';
