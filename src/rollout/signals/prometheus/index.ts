// The `prometheus` signal source: the same signals through PromQL over a Prometheus server's HTTP API (/api/v1/query).
export * from './prometheus-source.js';
