// The text `dhash migrate` prints on either engine (pure): the migration table, and a dry run's effect statement by
// statement.
import type { MigrationDryRunReport, MigrationStatus } from '../../service/store/index.js';

export type MigrationTableRow = Pick<MigrationStatus['entries'][number], 'version' | 'name' | 'state' | 'checksum'>;

/** `1 migration`, `2 migrations`. */
export function formatCount(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What `migrate up` did: the versions it went between and how many it applied, or that nothing was pending. */
export function formatMigrationRun(report: {
  fromVersion: number;
  toVersion: number;
  applied: readonly unknown[];
}): string {
  const appliedText = formatCount(report.applied.length, 'migration');
  return report.applied.length
    ? `migrated schema version ${report.fromVersion} → ${report.toVersion} (${appliedText} applied)`
    : `schema version ${report.toVersion} is current; nothing to apply`;
}

/** Printed after EMIGRATIONFAILED: each migration runs in one transaction, so the failed one left nothing. */
export const MIGRATION_ROLLED_BACK_NOTE = 'the failed migration was rolled back; the database is as it was before it';

/** VERSION NAME STATE CHECKSUM, one row per migration, the name column as wide as the longest name. */
export function formatMigrationTable(rows: MigrationTableRow[]): string[] {
  const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
  const header = `${'VERSION'.padEnd(8)} ${'NAME'.padEnd(nameWidth)} ${'STATE'.padEnd(8)} CHECKSUM (sha256)`;
  const version = (n: number) => String(n).padStart(3, '0').padEnd(8);
  return [
    header,
    ...rows.map((r) => `${version(r.version)} ${r.name.padEnd(nameWidth)} ${r.state.padEnd(8)} ${r.checksum}`),
  ];
}

/** What the dry run would apply, each statement with the objects it created, altered or dropped, and its failure. */
export function formatMigrationDryRun(report: MigrationDryRunReport): string[] {
  const lines = [`dry run: nothing is changed in ${report.file}`];
  const n = report.migrations.length;
  if (!report.databaseExists)
    lines.push(
      `database does not exist yet; ${formatCount(n, 'migration')} would create schema version ${report.latestVersion}`,
    );
  else if (n === 0) lines.push(`schema version ${report.fromVersion} is current; nothing would be applied`);
  else
    lines.push(
      `schema version ${report.fromVersion}; ` +
        `${formatCount(n, 'pending migration')} would bring it to ${report.latestVersion}`,
    );
  for (const m of report.migrations) {
    lines.push(`${String(m.version).padStart(3, '0')} ${m.name}  sha256 ${m.checksum}`);
    for (const s of m.statements) {
      const objects = [
        ...s.created.map((o) => `created ${o}`),
        ...s.altered.map((o) => `altered ${o}`),
        ...s.dropped.map((o) => `dropped ${o}`),
      ];
      lines.push(`    ${s.sql}`, `      → ${[...objects, formatCount(s.changes, 'row') + ' changed'].join('; ')}`);
    }
  }
  if (report.failure) {
    const f = report.failure;
    lines.push(
      `FAILED: migration ${f.version} (${f.name}) at ${f.statement}: ${f.reason}`,
      `the real run would stop there and roll it back; resulting schema version ${report.toVersion}`,
    );
  } else lines.push(`resulting schema version: ${report.toVersion}`);
  return lines;
}
