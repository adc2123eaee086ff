// The list of CLI commands: each module registers itself; add a line here when adding a command.
import type { RegisterCommand } from '../context.js';
import { registerMigrate } from './migrate.js';
import { registerHash } from './hash.js';
import { registerNotify } from './notify.js';
import { registerServe } from './serve.js';
import { registerExtract } from './extract.js';
import { registerDeploy } from './deploy.js';
import { registerSmoke } from './smoke.js';
import { registerRelease } from './release.js';
import { registerRollback } from './rollback.js';
import { registerReport } from './report.js';
import { registerTelemetry } from './telemetry.js';
import { registerMonitor } from './monitor.js';
import { registerStatus } from './status.js';
import { registerGates } from './gates.js';
import { registerBackup } from './backup.js';
import { registerIncident } from './incident.js';
import { registerConfig } from './config.js';
import { registerQuickDeploy } from './quick-deploy.js';
import { registerPipeline } from './pipeline.js';
import { registerPremerge } from './premerge.js';
import { registerExport } from './export.js';

export const COMMANDS: RegisterCommand[] = [
  registerMigrate,
  registerHash,
  registerNotify,
  registerServe,
  registerExtract,
  registerDeploy,
  registerSmoke,
  registerRelease,
  registerRollback,
  registerReport,
  registerTelemetry,
  registerMonitor,
  registerStatus,
  registerGates,
  registerBackup,
  registerIncident,
  registerConfig,
  registerQuickDeploy,
  registerPipeline,
  registerPremerge,
  registerExport,
];
