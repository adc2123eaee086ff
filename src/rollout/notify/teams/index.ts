// Microsoft Teams Workflows webhook: a message with one Adaptive Card 1.4 attachment; any 2xx (202 with no body) is
// success.
export * from './teams-channel.js';
