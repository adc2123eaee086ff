// The service's migrations in order; add a new module here for every schema change, never edit an applied one.
import type { Migration } from './migration.js';
import { migration001Initial } from './001-initial.js';
import { migration002ChangeLog } from './002-change-log.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [migration001Initial, migration002ChangeLog];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;
