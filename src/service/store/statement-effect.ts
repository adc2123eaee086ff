// A dry run's account of one statement, the same on both engines: the rows it wrote and the schema objects it
// created, dropped or altered (from snapshots before and after: object key → its definition).
import type { StatementEffect } from './migration-dry-run.js';

export function describeStatementEffect(
  shown: string,
  changes: number,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): StatementEffect {
  const effect: StatementEffect = { sql: shown, changes, created: [], dropped: [], altered: [] };
  for (const [key, definition] of after) {
    if (!before.has(key)) effect.created.push(key);
    else if (before.get(key) !== definition) effect.altered.push(key);
  }
  for (const key of before.keys()) if (!after.has(key)) effect.dropped.push(key);
  return effect;
}
