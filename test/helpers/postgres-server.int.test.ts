// Proves the PostgreSQL test harness: a real server, password auth, databases on demand, a clean stop.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { POSTGRES_BIN_DIR, startPostgres } from './postgres-server.js';

const execFileAsync = promisify(execFile);

/** Runs one query with psql against a URL (the password travels in the URL) and returns the unaligned output. */
async function queryWithPsql(url: string, sql: string): Promise<string> {
  const { stdout } = await execFileAsync(`${POSTGRES_BIN_DIR}/psql`, ['-X', '-A', '-t', '-d', url, '-c', sql], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
  return stdout.trim();
}

function isPortOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

test('starts a server whose URL authenticates the dhash role by password and can create databases', async (t) => {
  const server = await startPostgres({ t });
  assert.equal(server.url, `postgres://dhash:secret@127.0.0.1:${server.port}/dhash`);
  assert.equal(await queryWithPsql(server.url, "SELECT current_user || '|' || current_database()"), 'dhash|dhash');
  assert.equal(await queryWithPsql(server.url, 'SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user'), 't');
  assert.equal(await queryWithPsql(server.url, 'SHOW fsync'), 'off');
  assert.equal(await queryWithPsql(server.adminUrl, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user'), 't');
  assert.ok(existsSync(`${server.socketDir}/.s.PGSQL.${server.port}`), 'the unix socket is inside the temp folder');

  const wrongPassword = server.url.replace(':secret@', ':wrong@');
  await assert.rejects(queryWithPsql(wrongPassword, 'SELECT 1'), /password authentication failed/);

  const otherUrl = await server.createDatabase('dhash_restore_1');
  assert.equal(otherUrl, `postgres://dhash:secret@127.0.0.1:${server.port}/dhash_restore_1`);
  assert.equal(
    await queryWithPsql(otherUrl, 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()'),
    'dhash',
  );
  await server.dropDatabase('dhash_restore_1');
  await server.dropDatabase('dhash_restore_1');
  await assert.rejects(queryWithPsql(otherUrl, 'SELECT 1'), /does not exist/);
});

test('listens on the extra addresses it is given', async (t) => {
  const server = await startPostgres({ t, listenAddresses: ['127.0.0.2'] });
  const viaExtra = server.url.replace('@127.0.0.1:', '@127.0.0.2:');
  assert.equal(await queryWithPsql(viaExtra, 'SELECT inet_server_addr()::text'), '127.0.0.2/32');
});

test('stop() closes the port, removes the folder and may be called twice', async () => {
  const server = await startPostgres();
  const folder = dirname(server.socketDir);
  assert.ok(existsSync(folder));
  await server.stop();
  await server.stop();
  assert.equal(existsSync(folder), false);
  assert.equal(await isPortOpen('127.0.0.1', server.port), false);
});
