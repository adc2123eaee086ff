// Backups of an environment: create, verify, extract, list, prune (see docs/dev/CONTRACTS.md).
export {
  createBackup,
  type BackupPlan,
  type BackupProgress,
  type CreateBackupOptions,
  type CreatedBackup,
  type PlannedBackup,
} from './create-backup.js';
export {
  verifyBackup,
  createBackupRefusal,
  getChecksumFile,
  findNewestBackupName,
  type VerifyBackupResult,
  type VerifyBackupOptions,
} from './verify-backup.js';
export { extractBackup, type ExtractedBackup, type ExtractBackupOptions } from './extract-backup.js';
export { listBackups, pruneBackups, type BackupListing, type BackupState, type PruneResult } from './list-backups.js';
export { snapshotDatabase, type DatabaseSnapshot } from './snapshot-database.js';
