// Discord webhook: one embed (title, description, inline fields, colour by severity), mentions disabled.
export * from './discord-channel.js';
