// Generic JSON webhook (DEPLOY_WEBHOOK): the rendered message as a versioned JSON document, idempotency key inside.
export * from './webhook-channel.js';
