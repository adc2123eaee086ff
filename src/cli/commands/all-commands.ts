// The list of CLI commands, loaded on demand: `dhash serve` imports the service, not the whole rollout toolkit,
// so a service starts (and a deploy's or rollback's health wait ends) sooner. Add an entry when adding a command.
import type { RegisterCommand } from '../context.js';

export interface CommandEntry {
  /** The top-level command names the module registers. */
  names: readonly string[];
  load: () => Promise<RegisterCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['migrate'], load: async () => (await import('./migrate.js')).registerMigrate },
  { names: ['hash'], load: async () => (await import('./hash.js')).registerHash },
  { names: ['notify'], load: async () => (await import('./notify.js')).registerNotify },
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServe },
  { names: ['extract'], load: async () => (await import('./extract.js')).registerExtract },
  { names: ['deploy'], load: async () => (await import('./deploy.js')).registerDeploy },
  { names: ['smoke'], load: async () => (await import('./smoke.js')).registerSmoke },
  { names: ['release'], load: async () => (await import('./release.js')).registerRelease },
  { names: ['rollback'], load: async () => (await import('./rollback.js')).registerRollback },
  { names: ['report'], load: async () => (await import('./report.js')).registerReport },
  { names: ['telemetry'], load: async () => (await import('./telemetry.js')).registerTelemetry },
  { names: ['monitor'], load: async () => (await import('./monitor.js')).registerMonitor },
  { names: ['status'], load: async () => (await import('./status.js')).registerStatus },
  { names: ['gates'], load: async () => (await import('./gates.js')).registerGates },
  { names: ['backup'], load: async () => (await import('./backup.js')).registerBackup },
  { names: ['incident'], load: async () => (await import('./incident.js')).registerIncident },
  { names: ['config'], load: async () => (await import('./config.js')).registerConfig },
  { names: ['quick-deploy'], load: async () => (await import('./quick-deploy.js')).registerQuickDeploy },
  { names: ['pipeline'], load: async () => (await import('./pipeline.js')).registerPipeline },
  { names: ['premerge'], load: async () => (await import('./premerge.js')).registerPremerge },
  { names: ['export'], load: async () => (await import('./export.js')).registerExport },
  { names: ['host'], load: async () => (await import('./host.js')).registerHost },
];

/**
 * The registrations a command line needs: only its command's module when the first word names one, otherwise every
 * module (for --help, --version and unknown commands, whose answer lists them all).
 */
export async function loadCommands(argv: readonly string[]): Promise<RegisterCommand[]> {
  const first = argv.find((arg) => !arg.startsWith('-'));
  const entry = COMMANDS.find((c) => first !== undefined && c.names.includes(first));
  const chosen = entry ? [entry] : COMMANDS;
  return Promise.all(chosen.map((c) => c.load()));
}
