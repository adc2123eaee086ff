// `dhash rollback` argument handling now that a fleet rolls back without a backup: one machine still needs --backup,
// and a fleet refuses a backup restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../../helpers/temp-dir.js';
import { runCliForTest } from '../../helpers/cli.js';

async function createProject(t: Parameters<typeof createTempDir>[0]): Promise<string> {
  const root = await createTempDir(t);
  const fleet = {
    root: '.dhash/fleet',
    service: { host: '0.0.0.0', port: 18997 },
    target: {
      type: 'ssh',
      hosts: [{ name: 'web-1', address: '10.88.0.2', root: '/srv/dhash' }],
      waves: ['100%'],
      bake: '5s',
    },
    signals: { source: 'prometheus', url: 'http://127.0.0.1:9/', hostLabel: 'instance' },
    database: { engine: 'postgres' },
  };
  await writeFile(
    join(root, 'environments.json'),
    JSON.stringify({ environments: { local: { root: '.dhash/local', service: { port: 18999 } }, fleet } }),
  );
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'dhash', version: '0.0.1' }));
  return root;
}

test('rollback of one machine without --backup is a usage error (exit 2) naming --backup', async (t) => {
  const result = await runCliForTest(['rollback', '--env', 'local'], { cwd: await createProject(t) });
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /Expected the `--backup` option to be a backup zip \(`local` is one machine: it is /);
  assert.match(result.stderr, /restored from a backup\), got nothing\./);
});

test('rollback of a fleet with --backup is refused (exit 2) naming the fleet rollback command', async (t) => {
  const result = await runCliForTest(['rollback', '--env', 'fleet', '--backup', 'x.zip', '--force'], {
    cwd: await createProject(t),
  });
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /The environment `fleet` is a fleet of ssh hosts/);
  assert.match(result.stderr, /roll every host back to its previous release with `npx dhash rollback --env fleet`/);
});
