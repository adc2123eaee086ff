// The service's migrations in order; add a new module here for every schema change, never edit an applied one.
export * from './migration-list.js';
