// Slack incoming webhook: Block Kit (header, section fields, context) plus the top-level `text` fallback, within
// Slack's limits.
export * from './slack-channel.js';
