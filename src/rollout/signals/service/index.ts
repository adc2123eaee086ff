// The `service` signal source: GET /health and GET /metrics of the running dhash service, parsed into raw counters.
export * from './service-source.js';
