// The `host` signal source: CPU, memory and disk of this host, and RSS/CPU of the service process from its pidfile.
export * from './host-source.js';
