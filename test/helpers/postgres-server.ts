// Starts a real PostgreSQL 15 server (Debian's postgresql-15) in a temp folder for integration tests.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getFreePort } from './free-port.js';

const execFileAsync = promisify(execFile);

export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';
const REQUIRED_BINARIES = ['initdb', 'pg_ctl', 'postgres', 'psql'];
const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'admin-secret';
/** The application role: URLs look like production's (postgres://dhash:secret@127.0.0.1:PORT/dhash). */
export const POSTGRES_TEST_ROLE = 'dhash';
export const POSTGRES_TEST_PASSWORD = 'secret';
const START_ATTEMPTS = 3;

export interface StartPostgresOptions {
  /** Extra addresses to listen on besides 127.0.0.1 (a veth address a fleet test created). */
  listenAddresses?: string[];
  /** The application database created at start (default `dhash`). */
  databaseName?: string;
  /** The application role's password (default `secret`): a distinctive one lets a test search outputs for it. */
  password?: string;
  /** A node:test context: stop() is registered with t.after. */
  t?: { after: (fn: () => Promise<void>) => void };
}

export interface PostgresServer {
  /** postgres://dhash:secret@127.0.0.1:PORT/<databaseName> */
  url: string;
  port: number;
  host: string;
  socketDir: string;
  /** The superuser's URL (database `postgres`), for tests that inspect or break the server. */
  adminUrl: string;
  /** Creates a database owned by the application role and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drops the database (terminating its connections); no error when it does not exist. */
  dropDatabase(name: string): Promise<void>;
  /** Stops the server (immediate mode) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
  /** The command prefix that drops root (empty when the tests are not root). */
  prefix: string[];
}

/** Starts a server; throws one line naming postgresql-15 when the binaries are missing. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  assertBinariesPresent();
  const runAs = getRunAs();
  const dir = await mkdtemp(join(tmpdir(), 'dhash-pg-'));
  const socketDir = join(dir, 'socket');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  let port = 0;
  let isStopped = false;
  const stopSync = (): void => {
    if (isStopped) return;
    isStopped = true;
    if (port) spawnSync(...commandAs(runAs, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']));
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
  process.once('exit', stopSync);
  try {
    await mkdir(socketDir);
    await initCluster(runAs, dir, dataDir, socketDir, options.listenAddresses ?? []);
    port = await startServer(runAs, dir, dataDir, logFile);
    const databaseName = options.databaseName ?? 'dhash';
    await runSql(socketDir, port, createRoleSql(databaseName, options.password ?? POSTGRES_TEST_PASSWORD));
  } catch (error) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw error;
  }
  const host = '127.0.0.1';
  const password = encodeURIComponent(options.password ?? POSTGRES_TEST_PASSWORD);
  const urlFor = (name: string): string => `postgres://${POSTGRES_TEST_ROLE}:${password}@${host}:${port}/${name}`;
  const server: PostgresServer = {
    url: urlFor(options.databaseName ?? 'dhash'),
    port,
    host,
    socketDir,
    adminUrl: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@${host}:${port}/postgres`,
    async createDatabase(name) {
      await runSql(socketDir, port, `CREATE DATABASE ${quoteIdent(name)} OWNER ${POSTGRES_TEST_ROLE};`);
      return urlFor(name);
    },
    async dropDatabase(name) {
      await runSql(socketDir, port, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE);`);
    },
    async stop() {
      process.removeListener('exit', stopSync);
      if (isStopped) return;
      isStopped = true;
      await execFileAsync(...commandAs(runAs, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w'])).catch(
        () => undefined,
      );
      // Retried: a backend still exiting after an immediate stop can write a file while the tree is removed.
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
  options.t?.after(() => server.stop());
  return server;
}

function assertBinariesPresent(): void {
  const missing = REQUIRED_BINARIES.filter((name) => !existsSync(join(POSTGRES_BIN_DIR, name)));
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL 15 is missing (${missing.map((n) => join(POSTGRES_BIN_DIR, n)).join(', ')}): ` +
        'install the Debian package postgresql-15 (npm run setup).',
    );
  }
}

/** As root, PostgreSQL refuses to run: drop to Debian's `postgres` user. */
function getRunAs(): RunAs {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? -1, prefix: [] };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) {
    throw new Error(
      'The tests run as root but the user `postgres` is missing: install the Debian package postgresql-15.',
    );
  }
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()), prefix: ['runuser', '-u', 'postgres', '--'] };
}

function commandAs(runAs: RunAs, binary: string, args: string[]): [string, string[], { cwd: string }] {
  const full = [...runAs.prefix, join(POSTGRES_BIN_DIR, binary), ...args];
  return [full[0], full.slice(1), { cwd: '/' }];
}

async function chownTree(runAs: RunAs, paths: string[]): Promise<void> {
  if (runAs.prefix.length === 0) return;
  for (const path of paths) await chown(path, runAs.uid, runAs.gid);
}

async function initCluster(
  runAs: RunAs,
  dir: string,
  dataDir: string,
  socketDir: string,
  extraListenAddresses: string[],
): Promise<void> {
  const pwFile = join(dir, 'superuser-password');
  await writeFile(pwFile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
  await chownTree(runAs, [dir, socketDir, pwFile]);
  await chmod(dir, 0o700);
  const args = ['-D', dataDir, '-U', SUPERUSER, `--pwfile=${pwFile}`, '--auth-local=trust'];
  args.push('--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions');
  await run(commandAs(runAs, 'initdb', args), 'initdb');
  await rm(pwFile);
  const listen = ['127.0.0.1', ...extraListenAddresses].join(',');
  // Test settings: durability off (a test server is thrown away), small memory, sockets inside the temp folder.
  const settings = [
    `listen_addresses = '${listen}'`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'shared_buffers = 16MB',
    'max_connections = 50',
    "timezone = 'UTC'",
  ];
  await appendFile(join(dataDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
  // Fleet tests reach the server from network namespaces: any address, always with a password.
  await appendFile(join(dataDir, 'pg_hba.conf'), '\nhost all all 0.0.0.0/0 scram-sha-256\n');
}

/** Starts on a free port; retries with another port when one was taken in between. */
async function startServer(runAs: RunAs, dir: string, dataDir: string, logFile: string): Promise<number> {
  await writeFile(logFile, '');
  await chownTree(runAs, [logFile]);
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const args = ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', `-p ${port}`];
    try {
      await run(commandAs(runAs, 'pg_ctl', args), 'pg_ctl start');
      return port;
    } catch (error) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(log)) continue;
      const tail = log.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`PostgreSQL did not start in ${dir}: ${(error as Error).message} (log: ${tail})`);
    }
  }
}

function createRoleSql(databaseName: string, password: string): string {
  return [
    `CREATE ROLE ${POSTGRES_TEST_ROLE} LOGIN CREATEDB PASSWORD '${password.replace(/'/g, "''")}';`,
    `CREATE DATABASE ${quoteIdent(databaseName)} OWNER ${POSTGRES_TEST_ROLE};`,
  ].join('\n');
}

/** Runs SQL as the superuser over the unix socket (trusted locally), one statement at a time. */
async function runSql(socketDir: string, port: number, sql: string): Promise<void> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', SUPERUSER];
  for (const statement of sql.split('\n').filter(Boolean)) {
    await run([join(POSTGRES_BIN_DIR, 'psql'), [...args, '-d', 'postgres', '-c', statement], { cwd: '/' }], 'psql');
  }
}

async function run(command: [string, string[], { cwd: string }], what: string): Promise<void> {
  try {
    await execFileAsync(...command);
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${what} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
