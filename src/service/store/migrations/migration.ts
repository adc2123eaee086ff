// The shape of one versioned SQL migration, embedded as a TS module so the build needs no copy step.
export interface Migration {
  /** 1, 2, 3...: applied in ascending order, each exactly once. */
  version: number;
  /** snake_case description; shown by `dhash migrate status` and recorded with the checksum. */
  name: string;
  /** Plain SQL statements separated by `;`. No BEGIN/COMMIT: the runner wraps each migration in one transaction. */
  sql: string;
}
