// Every user-facing error of the toolkit: one definition per code, a one-sentence message,
// details with the next action.
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

export interface ErrorDefinition {
  message: string;
  /** What was found, the offending value, and the next action (a command to run or a setting to change). */
  details: string;
  exitCode: ExitCodeValue;
  /**
   * The status the service's HTTP API answers with when this error reaches it;
   * omitted for toolkit-only errors (500).
   */
  httpStatus?: number;
}

export class DhashError extends Error {
  readonly code: string;
  readonly details: string;
  readonly exitCode: ExitCodeValue;
  /** Declared beside the code (ErrorDefinition.httpStatus); 500 when the error is ours, not the caller's. */
  readonly httpStatus: number;
  constructor(code: string, def: ErrorDefinition, cause?: unknown) {
    super(def.message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.details = def.details;
    this.exitCode = def.exitCode;
    this.httpStatus = def.httpStatus ?? 500;
  }
}

export function isDhashError(error: unknown, code?: string): error is DhashError {
  return error instanceof DhashError && (code === undefined || error.code === code);
}

const formatBytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;

const describe = (value: unknown): string =>
  value === undefined
    ? 'nothing'
    : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\` (${typeof value})`;

/** What a monitor's exit code means for the release now serving (EMONITORNOTCLEAR). */
const describeMonitorExit = (exitCode: 1 | 2 | 3 | 4, env: string): string =>
  ({
    1: 'A rollback gate was violated and the previous release was restored.',
    2:
      'The monitor refused to start (usage or configuration) and the new release is serving unmonitored: ' +
      `fix it, then run \`npx dhash monitor --env ${env}\`.`,
    3: 'The monitor was refused or stopped before its window ended.',
    4: 'The automatic rollback failed or was blocked: a human must act.',
  })[exitCode];

/**
 * The definitions. Add new codes here (keep them alphabetical within their area) rather than
 * building messages at the throw site, so wording stays consistent and testable.
 */
export const ERRORS = {
  // ── usage and configuration (exit 2) ──
  EINVALIDOPTION: (c: { option: string; expected: string; actual: unknown }) => ({
    message: `Expected the \`${c.option}\` option to be ${c.expected}, got ${describe(c.actual)}.`,
    details: `Run the command with --help to see the accepted values of ${c.option}.`,
    exitCode: ExitCode.USAGE,
    httpStatus: 400,
  }),
  EINVALIDCONFIG: (c: { file: string; problems: { path: string; message: string }[] }) => ({
    message:
      `The configuration file ${c.file} is invalid ` +
      `(${c.problems.length} problem${c.problems.length === 1 ? '' : 's'}).`,
    details:
      `${c.problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n')}\n` +
      `Fix these entries in ${c.file}, then run \`npx dhash config check\`.`,
    exitCode: ExitCode.USAGE,
  }),
  ECONFIGNOTFOUND: (c: { file: string }) => ({
    message: `The configuration file ${c.file} does not exist.`,
    details: `Run the command from the repository root, or restore ${c.file} from git (\`git checkout -- ${c.file}\`).`,
    exitCode: ExitCode.USAGE,
  }),
  ECONFIGPARSE: (c: { file: string; reason: string }) => ({
    message: `The configuration file ${c.file} is not valid JSON.`,
    details: `The parser said: ${c.reason}. Fix the syntax, then run \`npx dhash config check\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EUNKNOWNENV: (c: { env: string; known: string[] }) => ({
    message: `Unknown environment \`${c.env}\` given to --env.`,
    details:
      `Known environments: ${c.known.join(', ')}. ` +
      'Add one under "environments" in environments.json to deploy elsewhere.',
    exitCode: ExitCode.USAGE,
  }),
  EUNKNOWNEVENT: (c: { event: string; known: readonly string[] }) => ({
    message: `Unknown notification event \`${c.event}\`.`,
    details:
      `Known events: ${c.known.join(', ')}. ` +
      'Example: `node scripts/deploy/deploy-notify.js start --env staging --dry-run`.',
    exitCode: ExitCode.USAGE,
  }),
  EUNKNOWNCHANNEL: (c: { type: string; known: readonly string[] }) => ({
    message: `Unknown notification channel type \`${c.type}\`.`,
    details: `Known channel types: ${c.known.join(', ')}. Fix notifications.routing in environments.json.`,
    exitCode: ExitCode.USAGE,
  }),

  ESKIPMIGRATIONSREFUSED: (c: { env: string; pending: number }) => ({
    message:
      `--skip-migrations is refused: the release has ${c.pending} ` +
      `pending migration${c.pending === 1 ? '' : 's'}, which the deploy must apply.`,
    details:
      'Nothing was changed. Leave out --skip-migrations: the deploy dry-runs them on a copy first and keeps a ' +
      `pre-migration copy for switch-back. \`./scripts/migrate_dhash.sh --env ${c.env} --dry-run\` shows what they do.`,
    exitCode: ExitCode.USAGE,
  }),

  EINVALIDPIPELINE: (c: { pipeline: string; problems: string[] }) => ({
    message:
      `The pipeline \`${c.pipeline}\` is defined wrongly ` +
      `(${c.problems.length} problem${c.problems.length === 1 ? '' : 's'}).`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Fix the step or hook names in its definition; ' +
      '`npx dhash pipeline steps --env <env>` prints the resolved list.',
    exitCode: ExitCode.USAGE,
  }),
  ENOMONITORLOGS: (c: { dir: string; what: string }) => ({
    message: `No monitor logs were found for ${c.what} in ${c.dir}.`,
    details:
      'Monitor logs are written by `npx dhash monitor --env <env>` (started by ./quick-deploy.sh); ' +
      `check the deploy id with \`ls ${c.dir}\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EDISTMISSING: (c: { projectRoot: string }) => ({
    message: `There is no built service in ${c.projectRoot}/dist (dist/cli/main.js is missing).`,
    details: 'Run `npm run build` (or `npm ci`, which builds) in the repository root, then run the command again.',
    exitCode: ExitCode.USAGE,
  }),
  EBADRELEASE: (c: { path: string; reason: string }) => ({
    message: `The release given to --release (${c.path}) is not a usable release.`,
    details:
      `${c.reason}. Pass a directory or .tar.gz made by \`npx dhash release build\`, ` +
      'or omit --release to build the checkout.',
    exitCode: ExitCode.USAGE,
  }),
  ETARGETFAILED: (c: { target: string; action: string; reason: string }) => ({
    message: `The ${c.target} target driver could not ${c.action} the service.`,
    details: `${c.reason}. Check the service log under <root>/logs/ and the target settings in environments.json.`,
    exitCode: ExitCode.FAILED,
  }),

  EDEPLOYFAILED: (c: { env: string; reason: string; exitCode: 1 | 4 }) => ({
    message: `The deploy to \`${c.env}\` failed: ${c.reason}.`,
    details:
      c.exitCode === 4
        ? `A human must act: check \`npx dhash status --env ${c.env}\`, ` +
          `then restore with \`./scripts/rollback_dhash.sh --backup <zip> --env ${c.env} --force\`.`
        : 'The previous release is serving. ' +
          `See the deploy journal (\`npx dhash status --env ${c.env}\`) and <root>/logs/, ` +
          'fix the release, and deploy again.',
    exitCode: c.exitCode,
  }),
  EMONITORNOTCLEAR: (c: { env: string; exitCode: 1 | 2 | 3 | 4; logFile: string }) => ({
    message: `The monitor of \`${c.env}\` did not end all clear (exit ${c.exitCode}).`,
    details:
      `${describeMonitorExit(c.exitCode, c.env)} Read ${c.logFile}, ` +
      `the report (\`npx dhash report --env ${c.env}\`) and incidents/.`,
    exitCode: c.exitCode,
  }),
  // ── safety refusals (exit 3) ──
  EPORTTAKEN: (c: { env: string; address: string; service: string }) => ({
    message:
      `${c.address} already accepts connections, but not from \`${c.env}\`'s service (${c.service}): ` +
      'a release started now could not listen there, and health checks would reach the other process.',
    details:
      'Nothing was changed. Stop the process holding the port (`ss -ltnp` names it), or give this environment ' +
      'another port in its baseUrl in environments.json; then run the command again.',
    exitCode: ExitCode.REFUSED,
  }),
  ELOCKED: (c: { env: string; lockFile: string; holder: string }) => ({
    message: `Another deploy or rollback of \`${c.env}\` is in progress (${c.holder}).`,
    details: `Wait for it to finish. If you are sure it is gone, remove ${c.lockFile} and run the command again.`,
    exitCode: ExitCode.REFUSED,
  }),
  ECHECKSUMMISMATCH: (c: { file: string; expected: string; actual: string }) => ({
    message: `The checksum of ${c.file} does not match its recorded sha256.`,
    details:
      `Expected ${c.expected}, computed ${c.actual}. ` +
      'The file is corrupt or was changed; pick another backup (`npx dhash backup list --env <env>`).',
    exitCode: ExitCode.REFUSED,
  }),

  ECHECKSUMMISSING: (c: { file: string }) => ({
    message: `The release artifact ${c.file} has no ${c.file}.sha256 beside it.`,
    details:
      'Refusing to deploy an artifact whose integrity cannot be checked. ' +
      'Rebuild it with `npx dhash release build`, which writes both files.',
    exitCode: ExitCode.REFUSED,
  }),
  EPREFLIGHTFAILED: (c: { env: string; failed: { name: string; detail: string }[]; exitCode: 2 | 3 }) => ({
    message:
      `Pre-deploy validation of \`${c.env}\` failed ` +
      `(${c.failed.map((f) => f.name).join(', ')}); nothing was changed.`,
    details:
      `${c.failed.map((f) => `  - ${f.name}: ${f.detail}`).join('\n')}\n` +
      'Fix these, then run the command again (add --dry-run to see the whole plan).',
    exitCode: c.exitCode,
  }),
  ENOCONFIRMATION: (c: { action: string; env: string }) => ({
    message: `Refusing to ${c.action} \`${c.env}\` without confirmation, and there is no terminal to ask on.`,
    details:
      'Run it on a terminal and answer the prompt, or pass --force to skip the confirmation (every check still runs).',
    exitCode: ExitCode.REFUSED,
  }),
  EDECLINED: (c: { action: string; env: string }) => ({
    message: `The ${c.action} of \`${c.env}\` was not confirmed; nothing was changed.`,
    details: 'Answer `yes` at the prompt to go ahead, or pass --force.',
    exitCode: ExitCode.REFUSED,
  }),

  ENOSPACE: (c: {
    folder: string;
    what: string;
    neededBytes?: number;
    freeBytes?: number;
    isNothingChanged: boolean;
  }) => ({
    message: `Not enough free space in ${c.folder} to ${c.what}.`,
    details:
      `Needed ${c.neededBytes === undefined ? 'more than is free' : formatBytes(c.neededBytes)}, ` +
      `free ${c.freeBytes === undefined ? 'unknown' : formatBytes(c.freeBytes)}. ` +
      `${c.isNothingChanged ? 'Nothing was changed and no temp file is left. ' : ''}` +
      `Free space in ${c.folder} ` +
      '(remove old backups with `npx dhash backup prune`, or point the folder elsewhere), ' +
      'then run the command again.',
    exitCode: c.isNothingChanged ? ExitCode.REFUSED : ExitCode.HUMAN_NEEDED,
  }),
  EGATEVIOLATEDNOW: (c: {
    env: string;
    gate: string;
    value: string;
    threshold: string;
    window?: string;
    releaseId: string;
  }) => ({
    message:
      `${c.gate} is ${c.value} on the release serving now (threshold ${c.threshold}): ` +
      'the new release would be rolled back for a condition it did not cause.',
    details:
      `Measured on ${c.releaseId}${c.window ? ` over ${c.window}` : ''} before anything changed. Fix the cause first ` +
      `(see \`npx dhash gates explain --env ${c.env}\`), ` +
      'or pass --force to deploy anyway and expect the monitor to roll back.',
    exitCode: ExitCode.REFUSED,
  }),
  EINTERRUPTED: (c: { env: string; reason: string; serving: string }) => ({
    message: `The deploy to \`${c.env}\` was interrupted (${c.reason}) before anything changed.`,
    details: `Now serving: ${c.serving}. Run the command again when ready.`,
    exitCode: ExitCode.FAILED,
  }),
  ESAFETYABANDONED: (c: { step: string; leftState: string }) => ({
    message: `${c.step} was abandoned by a second interrupt before it was verified.`,
    details:
      `State left: ${c.leftState}. A human must act: check \`npx dhash status --env <env>\`, ` +
      'then switch back or restore with `./scripts/rollback_dhash.sh --backup <zip> --env <env>`.',
    exitCode: ExitCode.HUMAN_NEEDED,
  }),

  // ── backups (src/rollout/backup/) ──
  EBACKUPNOTFOUND: (c: { file: string }) => ({
    message: `The backup ${c.file} does not exist.`,
    details: 'List the backups with `npx dhash backup list --env <env>` and pass one of them.',
    exitCode: ExitCode.USAGE,
  }),
  ENOTHINGTOBACKUP: (c: { env: string; root: string }) => ({
    message: `There is nothing to back up in \`${c.env}\`: no current release and no database under ${c.root}.`,
    details:
      'This is expected before the first deploy. ' +
      `Deploy with \`./scripts/deploy_dhash.sh --env ${c.env}\`, then back up.`,
    exitCode: ExitCode.USAGE,
  }),
  EBACKUPCHECKSUMMISSING: (c: { file: string; sha256File: string }) => ({
    message: `The backup ${c.file} has no checksum file ${c.sha256File}.`,
    details:
      'A backup whose integrity cannot be checked is refused; pick another one (`npx dhash backup list --env <env>`).',
    exitCode: ExitCode.REFUSED,
  }),
  EBACKUPINVALID: (c: { file: string; problems: string[] }) => ({
    message:
      `The backup ${c.file} failed verification ` +
      `(${c.problems.length} problem${c.problems.length === 1 ? '' : 's'}).`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Pick another backup (`npx dhash backup list --env <env>`).',
    exitCode: ExitCode.REFUSED,
  }),
  ECRCMISMATCH: (c: { file: string; entry: string; problems: string[] }) => ({
    message: `The entry ${c.entry} of ${c.file} fails its CRC-32 check.`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'The zip is corrupt; pick another backup (`npx dhash backup list --env <env>`).',
    exitCode: ExitCode.REFUSED,
  }),
  EMANIFESTMISMATCH: (c: { file: string; entry: string; problems: string[] }) => ({
    message: `The entry ${c.entry} of ${c.file} does not match the backup's manifest.`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'The backup was altered or is corrupt; pick another one (`npx dhash backup list --env <env>`).',
    exitCode: ExitCode.REFUSED,
  }),
  EPATHESCAPE: (c: { file: string; entry: string; problems: string[] }) => ({
    message:
      `The backup ${c.file} holds an entry that would escape the target folder: ` + `${JSON.stringify(c.entry)}.`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Nothing was extracted. dhash never writes such entries; treat this file as hostile.',
    exitCode: ExitCode.REFUSED,
  }),
  EWRONGENV: (c: { file: string; expected: string; actual: string; newest: string | null }) => ({
    message: `The backup ${c.file} belongs to \`${c.actual}\`, not \`${c.expected}\`.`,
    details: c.newest
      ? `The newest backup of \`${c.expected}\` is ${c.newest}; pass that one instead.`
      : `There is no backup of \`${c.expected}\` yet; ` +
        `create one with \`./scripts/backup_dhash.sh --env ${c.expected}\`.`,
    exitCode: ExitCode.REFUSED,
  }),

  // ── PostgreSQL environments: backup, restore, switch-over (src/rollout/backup/postgres-*.ts) ──
  EDATABASEURLMISSING: (c: { env: string; variable: string }) => ({
    message: `The environment \`${c.env}\` keeps its data in PostgreSQL, but ${c.variable} is not set.`,
    details:
      `Set ${c.variable} to the database's postgres:// URL (user, password, host, port, database) in the ` +
      `environment of this command (never in environments.json), ` +
      `or set \`environments.${c.env}.database.engine\` to \`sqlite\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EPGTOOLMISSING: (c: { tool: string; searched: string[] }) => ({
    message: `The PostgreSQL client program ${c.tool} was not found.`,
    details:
      `Looked in ${c.searched.join(', ')}. Install the client matching the server ` +
      '(Debian: `apt-get install postgresql-client-15`), ' +
      'or point DHASH_PG_BIN_DIR at the folder that holds it.',
    exitCode: ExitCode.USAGE,
  }),
  EPGDUMPFAILED: (c: { database: string; reason: string }) => ({
    message: `The backup of the PostgreSQL database ${c.database} failed: ${c.reason}.`,
    details:
      'Nothing was written to backups/ and nothing changed. Check that the server is reachable with the URL ' +
      'and that its pg_dump is at least the server version, ' +
      'then run `./scripts/backup_dhash.sh --env <env>` again.',
    exitCode: ExitCode.FAILED,
  }),
  EBACKUPENGINEMISMATCH: (c: { file: string; env: string; backupEngine: string; envEngine: string }) => ({
    message:
      `The backup ${c.file} holds a ${c.backupEngine} database, ` +
      `but \`${c.env}\` keeps its data in ${c.envEngine}.`,
    details:
      'Nothing was changed: restoring it would leave the live database as it is while reporting a restore. ' +
      `Pick a backup taken since \`${c.env}\` moved to ${c.envEngine} (\`npx dhash backup list --env ${c.env}\`), ` +
      'or migrate the data between engines by hand.',
    exitCode: ExitCode.REFUSED,
  }),
  EPGRESTOREFAILED: (c: { database: string; step: string; reason: string }) => ({
    message: `Restoring the PostgreSQL database ${c.database} failed at ${c.step}: ${c.reason}.`,
    details:
      'A failure before the switch-over leaves the live database serving untouched ' +
      '(the half-restored copy is dropped); after it, the database set aside is named in the output: ' +
      'rename it back with ALTER DATABASE … RENAME.',
    exitCode: ExitCode.FAILED,
  }),

  // ── service store, library and review queue ──
  EDATABASEUNREACHABLE: (c: { database: string; reason: string }) => ({
    message: `The PostgreSQL database ${c.database} cannot be reached: ${c.reason}.`,
    details:
      'The service did not start and nothing was changed. Check that the server runs and accepts this role ' +
      '(host, port, password, pg_hba.conf), and the URL in DHASH_DATABASE_URL; then start the service again.',
    exitCode: ExitCode.FAILED,
  }),
  EPORTINUSE: (c: { address: string }) => ({
    message: `The service cannot listen on ${c.address}: another process already holds that address.`,
    details:
      'The service did not start and nothing was changed. Stop the other process (`ss -ltnp` names it), or serve ' +
      "on another port (--port, DHASH_PORT, or the environment's baseUrl).",
    exitCode: ExitCode.FAILED,
  }),
  EDATABASENOTFOUND: (c: { file: string }) => ({
    message: `The database ${c.file} does not exist.`,
    details: `Check the --db path or --env name; create and migrate it with \`npx dhash migrate --db ${c.file}\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EINVALIDHASH: (c: { field: string; actual: unknown }) => ({
    message: `Expected \`${c.field}\` to be a 16-digit hexadecimal dhash, got ${describe(c.actual)}.`,
    details:
      'A dhash is 64 bits written as 16 hex digits, e.g. `8f373714acfcf4d0`; hash an image with `npx dhash hash FILE`.',
    exitCode: ExitCode.USAGE,
    httpStatus: 400,
  }),
  ELIBRARYENTRYNOTFOUND: (c: { id: number }) => ({
    message: `Library entry ${c.id} does not exist.`,
    details: 'It may have been deleted already; list the library with `GET /v1/library`.',
    exitCode: ExitCode.USAGE,
    httpStatus: 404,
  }),
  EMIGRATIONEDITED: (c: { version: number; name: string; recorded: string; actual: string }) => ({
    message: `Migration ${c.version} (${c.name}) was edited after it was applied to this database.`,
    details:
      `Recorded sha256 ${c.recorded}, the code now has ${c.actual}. Nothing was changed. ` +
      'Restore the original migration file and put the change in a new migration with the next version number.',
    exitCode: ExitCode.REFUSED,
  }),
  EMIGRATIONDOWNFAILED: (c: { file: string; version: number; name: string; reason: string; engine?: string }) => ({
    message: `The down of migration ${c.version} (${c.name}) failed, so no migration was reverted.`,
    details:
      `${c.engine ?? 'SQLite'} said: ${c.reason}. All downs run in one transaction, so ${c.file} is unchanged. ` +
      'A rollback then restores the verified backup instead; ' +
      `to retry by hand, fix the down in a new release and run \`npx dhash migrate status --db ${c.file}\`.`,
    exitCode: ExitCode.HUMAN_NEEDED,
  }),
  EMIGRATIONNODOWN: (c: { version: number; name: string; reason: string }) => ({
    message: `Migration ${c.version} (${c.name}) cannot be reverted: ${c.reason}.`,
    details:
      'Nothing was changed. A rollback of a deploy that applied it restores the verified backup instead ' +
      '(`./scripts/rollback_dhash.sh --backup FILE --carry-forward`).',
    exitCode: ExitCode.HUMAN_NEEDED,
  }),
  EMIGRATIONFAILED: (c: { version: number; name: string; reason: string; engine?: string }) => ({
    message: `Migration ${c.version} (${c.name}) failed and was rolled back.`,
    details:
      `${c.engine ?? 'SQLite'} said: ${c.reason}. ` +
      'The database is unchanged by this migration (earlier ones in the run stay applied); ' +
      'fix the migration and run `npx dhash migrate status`.',
    exitCode: ExitCode.FAILED,
  }),
  EREVIEWALREADYRESOLVED: (c: { id: number; status: string }) => ({
    message: `Review item ${c.id} is already resolved as \`${c.status}\`.`,
    details: 'A review item is resolved once; list the pending ones with `GET /v1/review?status=pending`.',
    exitCode: ExitCode.REFUSED,
    httpStatus: 409,
  }),
  EREVIEWITEMNOTFOUND: (c: { id: number }) => ({
    message: `Review item ${c.id} does not exist.`,
    details: 'List the review queue with `GET /v1/review`.',
    exitCode: ExitCode.USAGE,
    httpStatus: 404,
  }),
  ESCHEMAAHEAD: (c: { file: string; version: number; latest: number }) => ({
    message: `The database ${c.file} has schema version ${c.version}, newer than this release knows (${c.latest}).`,
    details:
      'It was migrated by a newer release; deploy that release again or restore a backup taken before the upgrade. ' +
      'Nothing was changed.',
    exitCode: ExitCode.REFUSED,
  }),
  ESCHEMABEHIND: (c: { file: string; version: number; latest: number; pending: number; isPostgres?: boolean }) => ({
    message:
      `The database ${c.file} has schema version ${c.version}, behind this release's ${c.latest} ` +
      `(${c.pending} pending migration${c.pending === 1 ? '' : 's'}).`,
    details:
      (c.isPostgres
        ? 'Run `npx dhash migrate` with DHASH_DATABASE_URL set to this database '
        : `Run \`npx dhash migrate --db ${c.file}\` `) +
      '(or `./scripts/migrate_dhash.sh --env <env>` for a deployed environment), ' +
      'or start with `npx dhash serve --migrate` in development.',
    exitCode: ExitCode.REFUSED,
  }),

  // ── service access: API tokens (src/service/http/auth*.ts); the HTTP ones are answered with their status ──
  EAPITOKENFILEMODE: (c: { file: string; mode: string }) => ({
    message:
      `The API token file ${c.file} is readable by others (mode ${c.mode}), ` + 'so the service does not use it.',
    details:
      'A token file must be readable only by its owner. ' +
      `Run \`chmod 600 ${c.file}\`, then start the service again.`,
    exitCode: ExitCode.USAGE,
  }),
  EAPITOKENFILENOTFOUND: (c: { file: string; source: string; reason: string }) => ({
    message: `The API token file ${c.file} (from ${c.source}) cannot be read: ${c.reason}.`,
    details:
      `Create it with one \`name:scope:token\` per line and \`chmod 600 ${c.file}\`, ` +
      `or point ${c.source} at the right file.`,
    exitCode: ExitCode.USAGE,
  }),
  EFORBIDDEN: (c: { tokenName: string; scope: string; required: string; route: string }) => ({
    message: `The token \`${c.tokenName}\` has scope ${c.scope}; ${c.route} needs ${c.required}.`,
    details: `Use a token with scope ${c.required} (or admin), or ask the operator to add one to DHASH_API_TOKENS.`,
    exitCode: ExitCode.REFUSED,
    httpStatus: 403,
  }),
  EINVALIDAPITOKENS: (c: { source: string; problems: string[] }) => ({
    message:
      `The API tokens in ${c.source} are invalid ` +
      `(${c.problems.length} problem${c.problems.length === 1 ? '' : 's'}).`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Write each token as `name:scope:token` ' +
      '(scope read, write or admin; token at least 16 characters, no commas or spaces), ' +
      'separated by commas or newlines, e.g. `ci:read:$(openssl rand -hex 24)`.',
    exitCode: ExitCode.USAGE,
  }),
  ENOAPITOKENS: (c: { host: string; flag: string }) => ({
    message: `The service would accept requests without a token: ${c.flag} needs at least one API token.`,
    details:
      `Configure tokens with DHASH_API_TOKENS=name:scope:token,... or --tokens-file FILE (mode 0600). ` +
      `To serve ${c.host} without tokens anyway (never on a shared network), add --insecure-no-auth.`,
    exitCode: ExitCode.USAGE,
  }),
  EUNAUTHORIZED: (c: { route: string; reason: 'missing' | 'unknown' }) => ({
    message:
      c.reason === 'missing'
        ? `${c.route} needs an API token: send \`Authorization: Bearer <token>\`.`
        : `The bearer token sent to ${c.route} is not one of this service's API tokens.`,
    details:
      'Ask the operator for a token (DHASH_API_TOKENS on the service) and send it as `Authorization: Bearer <token>`.',
    exitCode: ExitCode.USAGE,
    httpStatus: 401,
  }),

  // ── monitor and signal sources (src/rollout/monitor/, src/rollout/signals/) ──
  EUNKNOWNSIGNALSOURCE: (c: { type: string; known: readonly string[] }) => ({
    message: `Unknown signal source \`${c.type}\` in environments.json.`,
    details:
      `Known sources: ${c.known.join(', ')}. ` +
      'Set "signals": {"source": "service"} for the environment, or one of the known sources.',
    exitCode: ExitCode.USAGE,
  }),
  ENODEPLOYTOMONITOR: (c: { env: string; journalFile: string }) => ({
    message: `No deploy of \`${c.env}\` is recorded, so there is no window to monitor.`,
    details:
      `Found no deploy:start entry in ${c.journalFile}. ` +
      `Deploy first (\`./scripts/deploy_dhash.sh --env ${c.env}\`), ` +
      `or watch the running release with \`node scripts/monitor_dhash.js --env ${c.env} --from-now\`.`,
    exitCode: ExitCode.USAGE,
  }),
  EMONITORLOCKED: (c: { env: string; lockFile: string; pid: number; startedAt: string }) => ({
    message: `Another monitor of \`${c.env}\` is running (pid ${c.pid}, started ${c.startedAt}).`,
    details:
      `Watch it with \`npx dhash status --env ${c.env}\`. ` +
      `If pid ${c.pid} is not a monitor, remove ${c.lockFile} and run the command again.`,
    exitCode: ExitCode.REFUSED,
  }),
  EMONITORNOTSUPERSEDED: (c: {
    env: string;
    pid: number;
    deployId: string;
    byDeployId: string;
    timeoutMs: number;
    lockFile: string;
  }) => ({
    message:
      `The monitor of \`${c.env}\` (pid ${c.pid}, deploy ${c.deployId}) ` +
      `did not stop within ${c.timeoutMs} ms; nothing was changed.`,
    details:
      `${c.byDeployId} asked it to stop (SIGTERM) so it would not act on the wrong release. ` +
      `Check it with \`npx dhash status --env ${c.env}\`; ` +
      `stop it with \`kill ${c.pid}\` (or remove ${c.lockFile} if pid ${c.pid} is not a monitor), ` +
      'then run the command again.',
    exitCode: ExitCode.REFUSED,
  }),
  EUNKNOWNDEPLOY: (c: { env: string; deployId: string; journalFile: string }) => ({
    message: `No deploy \`${c.deployId}\` of \`${c.env}\` is recorded.`,
    details:
      `Found no deploy:start entry for it in ${c.journalFile}. ` +
      `Leave out --deploy to watch the latest deploy, or pick an id from \`npx dhash status --env ${c.env}\`.`,
    exitCode: ExitCode.USAGE,
  }),
  ENOMONITORTORESUME: (c: { env: string; deployId: string; stateFile: string }) => ({
    message: `There is no saved monitor window of deploy ${c.deployId} to resume.`,
    details:
      `${c.stateFile} holds no state of that deploy. ` +
      `Run \`node scripts/monitor_dhash.js --env ${c.env} --deploy ${c.deployId}\` ` +
      'without --resume to start its window.',
    exitCode: ExitCode.USAGE,
  }),
  EMONITORNOTSTARTED: (c: { env: string; deployId: string; reason: string; logFile: string }) => ({
    message: `The monitor of deploy ${c.deployId} did not start: ${c.reason}.`,
    details:
      `The new release of \`${c.env}\` is serving without its monitor: a human must act. Read ${c.logFile}, ` +
      `then start it with \`node scripts/monitor_dhash.js --env ${c.env} --deploy ${c.deployId}\` ` +
      `(or roll back with \`./scripts/rollback_dhash.sh --backup <zip> --env ${c.env}\`).`,
    exitCode: ExitCode.HUMAN_NEEDED,
  }),
  ESMOKENOTVERIFIED: (c: { env: string; deployId: string }) => ({
    message: `The deploy ${c.deployId} of \`${c.env}\` finished without passing smoke tests.`,
    details:
      `The new release is serving unverified: run \`./scripts/smoke_tests.sh --env ${c.env}\`, ` +
      `and roll back with \`./scripts/rollback_dhash.sh --backup <zip> --env ${c.env}\` if they fail.`,
    exitCode: ExitCode.HUMAN_NEEDED,
  }),

  // ── fleet hosts over ssh (src/rollout/target/ssh/) ──
  EHOSTKEYCHANGED: (c: {
    host: string;
    address: string;
    port: number;
    knownHostsName: string;
    knownHostsFile: string;
    offeredFingerprint: string | null;
    offendingEntry: string | null;
  }) => ({
    message: `The host key of ${c.host} (${c.address}:${c.port}) has changed, so the rollout refuses to connect to it.`,
    details:
      `The host offered ${c.offeredFingerprint ?? 'a key'}, which does not match the entry for ${c.knownHostsName} ` +
      `in ${c.offendingEntry ?? c.knownHostsFile}. A reinstalled host looks like this, and so does a man in the ` +
      'middle: compare the fingerprint with the one on the host itself (its console: ' +
      '`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`); only if they match, replace the entry ' +
      `(\`ssh-keygen -f ${c.knownHostsFile} -R '${c.knownHostsName}'\`, then add the verified key). ` +
      'Nothing was changed.',
    exitCode: ExitCode.REFUSED,
  }),
  EHOSTKEYUNKNOWN: (c: {
    host: string;
    address: string;
    port: number;
    knownHostsName: string;
    knownHostsFile: string;
  }) => ({
    message: `The host key of ${c.host} (${c.address}:${c.port}) is unknown, so the rollout refuses to connect to it.`,
    details:
      `${c.knownHostsFile} has no key for ${c.knownHostsName}, and host keys are never accepted on first use ` +
      `(StrictHostKeyChecking=yes). Fetch it (\`ssh-keyscan -p ${c.port} ${c.address} | ssh-keygen -lf -\`), compare ` +
      'the fingerprint with the one on the host itself ' +
      '(its console: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), ' +
      `and only if they match append the key to ${c.knownHostsFile}. Nothing was changed.`,
    exitCode: ExitCode.REFUSED,
  }),
  EHOSTUNREACHABLE: (c: {
    host: string;
    address: string;
    port: number;
    reason: string;
    connectTimeoutSeconds: number;
  }) => ({
    message: `The host ${c.host} cannot be reached at ${c.address}:${c.port}: ${c.reason}.`,
    details:
      `ssh gives up after target.ssh.connectTimeoutSeconds (${c.connectTimeoutSeconds} s). Check that the host is up ` +
      `and its sshd listens (\`ssh -p ${c.port} ${c.address} true\`), and the network or ProxyJump on the way.`,
    exitCode: ExitCode.FAILED,
  }),
  ESSHAUTHFAILED: (c: {
    host: string;
    address: string;
    port: number;
    user: string | null;
    identityFile: string | null;
    reason: string;
  }) => ({
    message:
      `ssh could not log in to ${c.host} (${c.address}:${c.port}) ` +
      `as ${c.user ?? 'the configured user'}: ${c.reason}.`,
    details:
      'Only keys are tried, never a password prompt (BatchMode=yes). Check the key ' +
      `(${c.identityFile ?? 'ssh-agent, or IdentityFile in your ssh config'}), the user (target.hosts[].user), ` +
      "and that the public key is in that user's ~/.ssh/authorized_keys on the host.",
    exitCode: ExitCode.USAGE,
  }),
  ESSHCOMMANDFAILED: (c: { host: string; command: string; exitCode: number; stderr: string }) => ({
    message: `\`${c.command}\` failed on ${c.host} with exit code ${c.exitCode}.`,
    details: `${c.stderr ? `It said: ${c.stderr}` : 'It wrote nothing to stderr.'} Run it on the host to see more.`,
    exitCode: ExitCode.FAILED,
  }),
  ESSHCOMMANDTIMEOUT: (c: { host: string; command: string; timeoutMs: number }) => ({
    message: `\`${c.command}\` on ${c.host} did not finish within ${c.timeoutMs} ms, so ssh was stopped.`,
    details:
      'The command may still be running on the host, or have finished without reporting back: ' +
      'check its state on the host before running the step again.',
    exitCode: ExitCode.FAILED,
  }),
  ESSHCONFIGINVALID: (c: { host: string; configFile: string | null; reason: string }) => ({
    message: `ssh rejected its configuration while connecting to ${c.host}: ${c.reason}.`,
    details:
      `Fix ${c.configFile ?? 'your ssh config (~/.ssh/config)'} or target.ssh in environments.json, then check it ` +
      'with `ssh -G <address>`. Nothing was changed.',
    exitCode: ExitCode.USAGE,
  }),
  ESSHCONNECTIONLOST: (c: {
    host: string;
    address: string;
    port: number;
    command: string;
    reason: string;
    deadLinkSeconds: number;
  }) => ({
    message:
      `The ssh connection to ${c.host} (${c.address}:${c.port}) was lost ` +
      `while running \`${c.command}\`: ${c.reason}.`,
    details:
      'Whether the command finished on the host is unknown: check the host before running the step again. ' +
      `A silent link is declared dead after ${c.deadLinkSeconds} s (ServerAliveInterval × ServerAliveCountMax).`,
    exitCode: ExitCode.FAILED,
  }),
  ESSHCOPYFAILED: (c: { host: string; localPath: string; remotePath: string; reason: string }) => ({
    message: `Copying ${c.localPath} to ${c.host}:${c.remotePath} failed: ${c.reason}.`,
    details:
      `Nothing was put under ${c.remotePath}: the file goes to a temp name beside it, is checked (size, sha256), ` +
      'and only then renamed. Check the space and permissions of that folder on the host, then run the step again.',
    exitCode: ExitCode.FAILED,
  }),
  ESSHNOTINSTALLED: (c: { binary: string }) => ({
    message: `The OpenSSH client \`${c.binary}\` was not found, so no fleet host can be reached.`,
    details:
      'Install it (Debian: `apt-get install openssh-client`) so that `ssh -V` works, then run the command again.',
    exitCode: ExitCode.USAGE,
  }),

  // ── premerge (src/rollout/premerge/) ──
  EPREMERGESTEPFAILED: (c: { step: string; reason: string; logFile: string }) => ({
    message: `The premerge step ${c.step} failed: ${c.reason}.`,
    details:
      `Its output is in ${c.logFile}. Fix the cause, then run \`npm run premerge\` again ` +
      '(a missing system package: `npm run setup`; a throwaway environment, if one was made, is kept for inspection).',
    exitCode: ExitCode.FAILED,
  }),

  // ── fleet hosts: the host CLI (src/rollout/host/) and its controller (src/rollout/target/ssh/host-ops*) ──
  ERELEASENOTSTAGED: (c: { root: string; releaseId: string; staged: string[] }) => ({
    message: `The release ${c.releaseId} is not staged under ${c.root}/releases.`,
    details:
      `Staged there: ${c.staged.length ? c.staged.join(', ') : 'nothing'}. Nothing was changed. ` +
      'Stage it first (the fleet rollout copies and verifies the artifact), or name one of the staged releases.',
    exitCode: ExitCode.USAGE,
  }),
  ESERVICEENVINVALID: (c: { file: string; problems: string[] }) => ({
    message: `The service environment in ${c.file} is invalid (${c.problems.length} problem(s)).`,
    details:
      `${c.problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Nothing was changed. Each line is NAME=value (NAME in A-Z, 0-9, _); fix the file or the variables and retry.',
    exitCode: ExitCode.USAGE,
  }),
  ESERVICEENVMODE: (c: { file: string; mode: string }) => ({
    message: `The service environment file ${c.file} has mode ${c.mode}; it must be 0600.`,
    details:
      'It holds the database URL and the API tokens, so no other user may read it. Nothing was changed. ' +
      `Run \`chmod 600 ${c.file}\` on the host (or write it again through the rollout), then retry.`,
    exitCode: ExitCode.REFUSED,
  }),
  ESERVICEENVSQLITEURL: (c: { file: string; env: string }) => ({
    message: `${c.file} sets DHASH_DATABASE_URL, but the environment \`${c.env}\` keeps its data in SQLite.`,
    details:
      'The service refuses a database URL beside its SQLite file, so the systemd driver did not write or start ' +
      `anything. Remove the DHASH_DATABASE_URL line from ${c.file} (left from a PostgreSQL set-up), or set ` +
      `\`environments.${c.env}.database\` to \`{"engine":"postgres"}\` in environments.json.`,
    exitCode: ExitCode.USAGE,
  }),
  EHOSTNODEMISSING: (c: { host: string; nodePath: string; reason: string }) => ({
    message: `Host ${c.host} cannot run node (\`${c.nodePath}\`): ${c.reason}.`,
    details:
      'The release brings dhash but not node. Install Node 20 on the host, or set target.nodePath in ' +
      'environments.json to its path there; nothing was changed.',
    exitCode: ExitCode.REFUSED,
  }),
  EHOSTCOMMANDFAILED: (c: { host: string; step: string; exitCode: number; stderr: string }) => ({
    message: `On host ${c.host}, ${c.step} failed (exit ${c.exitCode}).`,
    details:
      `It said: ${c.stderr.trim().split('\n').slice(-3).join(' | ') || '(nothing)'}. ` +
      '`current` and the service were not touched. Fix the cause on the host (disk, permissions), then retry.',
    exitCode: ExitCode.FAILED,
  }),
  EHOSTBADANSWER: (c: { host: string; command: string; reason: string; isStateUnknown: boolean }) => ({
    message: `Host ${c.host} gave no usable answer to \`dhash host ${c.command}\`: ${c.reason}.`,
    details: c.isStateUnknown
      ? 'What the host did is unknown: a human must act. Look at `dhash host status` on it ' +
        '(or <root>/state/deploy-journal.jsonl and <root>/logs/host.log) before going on.'
      : "Nothing was changed. The staged release's CLI does not run on that host: check node there " +
        '(target.nodePath) and <root>/logs/host.log.',
    exitCode: c.isStateUnknown ? ExitCode.HUMAN_NEEDED : ExitCode.REFUSED,
  }),

  // ── a human must act (exit 4) ──
  ERELEASECHANGED: (c: { releaseId: string; dir: string; expected: string; actual: string }) => ({
    message:
      `The release ${c.releaseId} on disk no longer matches its recorded content hash, ` +
      'so it is not switched back to.',
    details:
      `${c.dir} hashes to ${c.actual}; release.json and the backup record ${c.expected}. ` +
      'The rollback restores the release from the verified backup instead; ' +
      'compare the folder with `npx dhash backup list` before reusing it.',
    exitCode: ExitCode.HUMAN_NEEDED,
  }),
  ENOPREVIOUSRELEASE: (c: { env: string }) => ({
    message: `There is no previous release of \`${c.env}\` to return to.`,
    details:
      `Restore from a backup with \`./scripts/rollback_dhash.sh --backup <zip> --env ${c.env}\`, ` +
      'or deploy a known-good release.',
    exitCode: ExitCode.HUMAN_NEEDED,
  }),

  // ── fleet rollouts (src/rollout/fleet/) ──
  EMIGRATIONNOTBACKWARDCOMPATIBLE: (c: { env: string; migrations: { version: number; name: string }[] }) => ({
    message:
      `A fleet rollout of \`${c.env}\` refuses migration ` +
      `${c.migrations.map((m) => `${m.version} (${m.name})`).join(', ')}: ` +
      'it is not marked isBackwardCompatible, and hosts not yet updated keep serving on the migrated database.',
    details:
      'Nothing was changed. Split it into expand and contract: an expand migration that the release before it can ' +
      'still run against (new tables, nullable columns; set `isBackwardCompatible: true`), shipped and rolled out ' +
      'first, then a contract migration (drop, rename, NOT NULL) in a later release, once no host runs code that ' +
      'needs the old schema.',
    exitCode: ExitCode.REFUSED,
  }),
  EFLEETHASNODRIVER: (c: { env: string }) => ({
    message: `The environment \`${c.env}\` is a fleet of ssh hosts, which this command cannot drive as one machine.`,
    details:
      `Roll it out wave by wave with \`npx dhash deploy --env ${c.env}\`, roll every host back to its previous ` +
      `release with \`npx dhash rollback --env ${c.env}\` (no --backup: a fleet keeps its live database), and see ` +
      `every host with \`npx dhash status --env ${c.env}\` (docs/FLEET.md).`,
    exitCode: ExitCode.USAGE,
  }),
} satisfies Record<string, (ctx: any) => ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

/** Builds the coded error; keep the original error as `cause`. */
export function createError<C extends ErrorCode>(
  code: C,
  context: Parameters<(typeof ERRORS)[C]>[0],
  cause?: unknown,
): DhashError {
  const define = ERRORS[code] as (ctx: unknown) => ErrorDefinition;
  return new DhashError(code, define(context), cause);
}
