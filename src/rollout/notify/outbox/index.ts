// The file outbox notifications_out/: one JSON file per undelivered notification per channel, written atomically.
export * from './outbox.js';
